package osautoupdate

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseSysconfig reads a SUSE /etc/sysconfig file: KEY="value" lines,
// # comments, values in double or single quotes or bare.
func parseSysconfig(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}
