package wifienc

import (
	"encoding/json"
	"fmt"
	"strconv"
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

// wmiInt returns a row's integer property. Rows decoded from a snapshot
// carry json.Number; PowerShell may also render an enum as its name, which
// is not a number (ok false).
func wmiInt(row map[string]any, key string) (int64, bool) {
	switch v := row[key].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
