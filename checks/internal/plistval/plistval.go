// Package plistval reads preference values decoded by howett.net/plist
// the way macOS's CFPreferences reads them, whatever type a profile, a
// `defaults write` or a configuration tool stored them as.
package plistval

import (
	"bytes"
	"errors"
	"math"
	"strings"

	"howett.net/plist"
)

// Bool reads a boolean preference: a boolean, a number (non-zero is
// true) or a "YES"/"NO"/"true"/"false"/"1"/"0" string. ok is false for
// anything else.
func Bool(v any) (val, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case uint64:
		return x != 0, true
	case int64:
		return x != 0, true
	case float64:
		return x != 0, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "true", "1":
			return true, true
		case "no", "false", "0":
			return false, true
		}
	}
	return false, false
}

// Int reads an integer preference: an integer, a whole real number, or a
// boolean as 1 or 0. ok is false for anything else.
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Unmarshal decodes a property list like plist.Unmarshal, but refuses an
// empty or blank input, which plist.Unmarshal accepts as an empty
// document: an empty file is no answer, and its "no keys" must not read as
// every key at its default.
func Unmarshal(b []byte, v any) (int, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, errors.New("empty, not a property list")
	}
	return plist.Unmarshal(b, v)
}
