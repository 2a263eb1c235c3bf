package antivirus

import (
	"time"

	"github.com/postern-dev/postern/checks/wmirow"
)

// Short names for the shared WMI row readers (see package wmirow for the
// shapes a property can arrive in).
func wmiString(row map[string]any, key string) (string, bool) { return wmirow.String(row, key) }
func wmiBool(row map[string]any, key string) (bool, bool)     { return wmirow.Bool(row, key) }
func wmiInt(row map[string]any, key string) (int64, bool)     { return wmirow.Int(row, key) }
func wmiTime(row map[string]any, key string) (time.Time, bool) {
	return wmirow.Time(row, key)
}
func parseCIMTime(s string) (time.Time, error) { return wmirow.ParseTime(s) }
