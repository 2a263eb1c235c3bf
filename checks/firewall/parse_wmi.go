package firewall

import "github.com/postern-dev/postern/checks/wmirow"

// wmiString returns a row's string property, "" when absent.
func wmiString(row map[string]any, key string) string {
	s, _ := wmirow.String(row, key)
	return s
}

func wmiInt(row map[string]any, key string) (int64, bool) { return wmirow.Int(row, key) }
