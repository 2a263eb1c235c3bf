package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/internal/jsonenc"
)

// detailPair is one line of an audit row's details as people read them.
type detailPair struct{ Key, Value string }

// maxDetailPairs bounds the lines shown for one row; the CSV export
// keeps the whole JSON.
const maxDetailPairs = 40

// auditDetails turns a row's JSON details into "key: value" lines:
// nested objects as "impact.active", lists of plain values joined with
// commas, keys in order, underscores read as spaces. Details that are
// not a JSON object are one line under "details".
func auditDetails(raw []byte) []detailPair {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []detailPair{{"details", string(raw)}}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []detailPair{{"details", detailValue(v)}}
	}
	var out []detailPair
	flattenDetails(&out, "", obj)
	if len(out) > maxDetailPairs {
		n := len(out) - maxDetailPairs
		out = append(out[:maxDetailPairs], detailPair{"…", fmt.Sprintf("%d more in the CSV export", n)})
	}
	return out
}

func flattenDetails(out *[]detailPair, prefix string, obj map[string]any) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ReplaceAll(k, "_", " ")
		if prefix != "" {
			name = prefix + "." + name
		}
		if sub, ok := obj[k].(map[string]any); ok && len(sub) > 0 {
			flattenDetails(out, name, sub)
			continue
		}
		*out = append(*out, detailPair{name, detailValue(obj[k])})
	}
}

// detailValue is one value as text: strings bare, numbers as written,
// lists of plain values joined, anything else compact JSON.
func detailValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		if len(x) == 0 {
			return "—"
		}
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				b, _ := jsonenc.Marshal(x)
				return string(b)
			}
			parts = append(parts, detailValue(e))
		}
		return strings.Join(parts, ", ")
	}
	b, _ := jsonenc.Marshal(v)
	return string(b)
}
