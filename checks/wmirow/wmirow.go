// Package wmirow runs WMI queries through the host with explained failures
// (Query) and reads typed values out of WMI/CIM rows as the host
// interface returns them. Rows come from PowerShell's ConvertTo-Json (on a
// live Windows host) or from a snapshot, so one property can arrive in
// several shapes: numbers as json.Number, float64 or a decimal string,
// booleans as bool, 0/1 or "True", enums as their number, and a CIM
// datetime as "/Date(ms)/" (Windows PowerShell 5.1), an object
// {"value": "/Date(ms)/", "DateTime": ...}, ISO 8601 (PowerShell 7) or the
// DMTF form "yyyymmddHHMMSS.mmmmmmsUUU" (raw WMI). The package is portable,
// so Windows logic is tested on any OS.
package wmirow

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// String returns a string property (a number is formatted); ok is false
// when the property is absent or of another type.
func String(row map[string]any, key string) (string, bool) {
	switch v := row[key].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// Strings returns a string-array property (ConvertTo-Json gives an
// array, or a lone string for one element); ok is false when the
// property is absent, null or holds something else.
func Strings(row map[string]any, key string) ([]string, bool) {
	switch v := row[key].(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case []string:
		return v, true
	}
	return nil, false
}

// Int returns an integral property; a boolean counts as 1 or 0.
func Int(row map[string]any, key string) (int64, bool) {
	switch v := row[key].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		return int64(f), err == nil && f == math.Trunc(f)
	case float64:
		return int64(v), v == math.Trunc(v)
	case int64:
		return v, true
	case int:
		return int64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Bool returns a boolean property.
func Bool(row map[string]any, key string) (bool, bool) {
	switch v := row[key].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return b, err == nil
	case json.Number, float64, int64, int:
		n, ok := Int(row, key)
		return n != 0, ok
	}
	return false, false
}

// Time returns a CIM datetime property in UTC.
func Time(row map[string]any, key string) (time.Time, bool) {
	v := row[key]
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	return t, err == nil
}

var msDate = regexp.MustCompile(`^/Date\((-?\d+)([+-]\d{4})?\)/$`)

// ParseTime parses every form a CIM datetime takes on its way to us.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := msDate.FindStringSubmatch(s); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse %q: %w", s, err)
		}
		// The milliseconds are UTC; a suffix only says the writer's zone.
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, ok := parseDMTF(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}

// parseDMTF reads "20240115083000.000000+060": local time and the offset
// from UTC in minutes.
func parseDMTF(s string) (time.Time, bool) {
	if len(s) != 25 || s[14] != '.' || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	base, err := time.Parse("20060102150405", s[:14])
	if err != nil {
		return time.Time{}, false
	}
	off, err := strconv.Atoi(s[22:])
	if err != nil {
		return time.Time{}, false
	}
	if s[21] == '-' {
		off = -off
	}
	return base.Add(-time.Duration(off) * time.Minute).UTC(), true
}
