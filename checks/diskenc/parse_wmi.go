package diskenc

import (
	"sort"

	"github.com/postern-dev/postern/checks/wmirow"
)

// wmiString returns a row's string property, "" when absent.
func wmiString(row map[string]any, key string) string {
	s, _ := wmirow.String(row, key)
	return s
}

func wmiInt(row map[string]any, key string) (int64, bool) { return wmirow.Int(row, key) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
