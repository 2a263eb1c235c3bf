package screenlock

import "strings"

// dconfSource is one database of a dconf profile.
type dconfSource struct {
	kind string // "user-db", "system-db", "file-db", "service-db"
	name string
}

// parseDconfProfile reads a dconf profile (dconf(7)): one database per
// line, highest priority first, '#' comments.
func parseDconfProfile(b []byte) []dconfSource {
	var out []dconfSource
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		kind, name, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			continue
		}
		out = append(out, dconfSource{kind: strings.TrimSpace(kind), name: strings.TrimSpace(name)})
	}
	return out
}
