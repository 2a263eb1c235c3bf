package osautoupdate

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseINI reads a dnf-style INI file into section -> key -> value, keys
// lower-cased; comments start with # or ;.
func parseINI(b []byte) map[string]map[string]string {
	out := map[string]map[string]string{}
	section := ""
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if out[section] == nil {
			out[section] = map[string]string{}
		}
		out[section][strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}

// iniBool reads dnf's booleans: yes/no, true/false, 1/0, on/off.
func iniBool(v string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "on":
		return true, true
	case "no", "false", "0", "off":
		return false, true
	}
	return false, false
}
