package antivirus

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WMI rows come from PowerShell's ConvertTo-Json (via the host) or from a
// snapshot: numbers are json.Number or float64, booleans may be strings,
// and a CIM datetime is "/Date(ms)/" (Windows PowerShell 5.1), an object
// {"value": "/Date(ms)/", "DateTime": ...}, ISO 8601 (PowerShell 7), or
// the DMTF form "yyyymmddHHMMSS.mmmmmmsUUU" (raw WMI).

func wmiString(row map[string]any, key string) (string, bool) {
	switch v := row[key].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

func wmiBool(row map[string]any, key string) (bool, bool) {
	switch v := row[key].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return b, err == nil
	case json.Number, float64:
		n, ok := wmiInt(row, key)
		return n != 0, ok
	}
	return false, false
}

func wmiInt(row map[string]any, key string) (int64, bool) {
	switch v := row[key].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		return int64(f), err == nil && f == math.Trunc(f)
	case float64:
		return int64(v), v == math.Trunc(v)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

var msDate = regexp.MustCompile(`^/Date\((-?\d+)([+-]\d{4})?\)/$`)

func wmiTime(row map[string]any, key string) (time.Time, bool) {
	v := row[key]
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseCIMTime(s)
	return t, err == nil
}

// parseCIMTime parses every form a CIM datetime takes on its way to us.
func parseCIMTime(s string) (time.Time, error) {
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
