package wifienc

import (
	"fmt"

	"github.com/postern-dev/postern/checks/wmirow"
)

// wmiString returns a row's string property, "" when absent.
func wmiString(row map[string]any, key string) string {
	switch v := row[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// wmiInt returns a row's integer property (see package wmirow); an enum
// PowerShell rendered as its name is not a number (ok false).
func wmiInt(row map[string]any, key string) (int64, bool) { return wmirow.Int(row, key) }
