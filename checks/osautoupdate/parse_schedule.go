package osautoupdate

import "strings"

// parseSchedule reads `softwareupdate --schedule`: "Automatic checking for
// updates is turned on" (older: "Automatic check is on").
func parseSchedule(b []byte) (on, ok bool) {
	s := strings.ToLower(string(b))
	switch {
	case strings.Contains(s, "turned on"), strings.Contains(s, "check is on"):
		return true, true
	case strings.Contains(s, "turned off"), strings.Contains(s, "check is off"):
		return false, true
	}
	return false, false
}
