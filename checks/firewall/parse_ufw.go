package firewall

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseUFWConf reads ENABLED from /etc/ufw/ufw.conf; ok is false when the
// file does not set it.
func parseUFWConf(b []byte) (enabled, ok bool) {
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		k, v, found := strings.Cut(line, "=")
		if !found || strings.HasPrefix(line, "#") || strings.TrimSpace(k) != "ENABLED" {
			continue
		}
		enabled = strings.EqualFold(strings.Trim(strings.TrimSpace(v), `"'`), "yes")
		ok = true
	}
	return enabled, ok
}

// parseUFWStatus reads the first line of `ufw status`: "Status: active"
// or "Status: inactive".
func parseUFWStatus(b []byte) (active, ok bool) {
	line, _, _ := strings.Cut(string(b), "\n")
	v, found := strings.CutPrefix(strings.TrimSpace(line), "Status:")
	if !found {
		return false, false
	}
	switch strings.TrimSpace(v) {
	case "active":
		return true, true
	case "inactive":
		return false, true
	}
	return false, false
}

// parseFirewalldState reads `firewall-cmd --state`: "running" (exit 0) or
// "not running" (exit 252).
func parseFirewalldState(b []byte) (running, ok bool) {
	switch strings.TrimSpace(string(b)) {
	case "running":
		return true, true
	case "not running":
		return false, true
	}
	return false, false
}
