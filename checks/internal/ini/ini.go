// Package ini reads the INI files of dnf and its plugins (automatic.conf,
// dnf.conf, *.repo): sections, key=value lines, # and ; comments.
package ini

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// Parse reads an INI file into section -> key -> value, keys lower-cased.
func Parse(b []byte) map[string]map[string]string {
	out := map[string]map[string]string{}
	section := ""
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			if out[section] == nil {
				out[section] = map[string]string{}
			}
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

// Bool reads dnf's booleans: yes/no, true/false, 1/0, on/off.
func Bool(v string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "on":
		return true, true
	case "no", "false", "0", "off":
		return false, true
	}
	return false, false
}
