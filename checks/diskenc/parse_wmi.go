package diskenc

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// WMI rows come from PowerShell's ConvertTo-Json (through the host) or
// from a snapshot: numbers are json.Number or float64.

func wmiString(row map[string]any, key string) string {
	switch v := row[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
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

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
