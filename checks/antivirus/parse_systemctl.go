package antivirus

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseIsActive maps each unit to its state from `systemctl is-active
// UNIT...`, which prints one state per unit in order ("active",
// "inactive", "failed", "activating", ...). It answers nothing when the
// line count does not match, e.g. when systemd is not running.
func parseIsActive(out []byte, units []string) map[string]string {
	var states []string
	for line := range textlines.Each(out) {
		if s := strings.TrimSpace(line); s != "" {
			states = append(states, s)
		}
	}
	if len(states) != len(units) {
		return nil
	}
	m := make(map[string]string, len(units))
	for i, u := range units {
		m[u] = states[i]
	}
	return m
}

// parseKeyValues reads "key: value" or "key=value" lines, as printed by
// falconctl and sentinelctl, into a map keyed by the lowercased key.
// Surrounding spaces and a final '.' or ',' (falconctl ends values with
// one) are dropped; CRLF is accepted.
func parseKeyValues(out []byte) map[string]string {
	m := map[string]string{}
	for line := range textlines.Each(out) {
		line = strings.TrimSpace(line)
		for _, part := range strings.Split(line, ", ") {
			i := strings.IndexAny(part, ":=")
			if i <= 0 {
				continue
			}
			k := strings.ToLower(strings.TrimSpace(part[:i]))
			v := strings.TrimRight(strings.TrimSpace(part[i+1:]), ".,")
			if _, dup := m[k]; !dup && v != "" {
				m[k] = v
			}
		}
	}
	return m
}

// mentionsScanner reports whether a crontab or unit file runs clamscan or
// clamdscan on a line that is not a comment.
func mentionsScanner(b []byte) bool {
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.Contains(line, "clamscan") || strings.Contains(line, "clamdscan") {
			return true
		}
	}
	return false
}
