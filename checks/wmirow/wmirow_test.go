package wmirow

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReadersAcceptEveryShapeAPropertyArrivesIn(t *testing.T) {
	row := map[string]any{
		"num": json.Number("3"), "float": 2.0, "frac": 2.5, "str": " 7 ", "yes": true, "True": "True",
		"name": "Enabled", "ps51": "/Date(1700000000000)/", "obj": map[string]any{"value": "/Date(1700000000000)/"},
		"iso": "2023-11-14T22:13:20Z", "dmtf": "20231114231320.000000+060",
	}
	for _, tt := range []struct {
		key  string
		want int64
		ok   bool
	}{{"num", 3, true}, {"float", 2, true}, {"frac", 2, false}, {"str", 7, true}, {"yes", 1, true}, {"name", 0, false}, {"missing", 0, false}} {
		if got, ok := Int(row, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Int(%s) = %d, %v; want %d, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if b, ok := Bool(row, "True"); !b || !ok {
		t.Error(`Bool("True") is not true`)
	}
	if b, ok := Bool(row, "num"); !b || !ok {
		t.Error("Bool(3) is not true")
	}
	if s, ok := String(row, "num"); s != "3" || !ok {
		t.Errorf("String(num) = %q", s)
	}
	want := time.Unix(1700000000, 0).UTC()
	for _, k := range []string{"ps51", "obj", "iso", "dmtf"} {
		if got, ok := Time(row, k); !ok || !got.Equal(want) {
			t.Errorf("Time(%s) = %v, %v; want %v", k, got, ok, want)
		}
	}
	if _, ok := Time(row, "name"); ok {
		t.Error("a word parsed as a time")
	}
}

func TestStrings(t *testing.T) {
	row := map[string]any{"arr": []any{"Wi-Fi", "Ethernet"}, "one": "NotConfigured", "mixed": []any{"a", 1.0}, "null": nil}
	for _, tt := range []struct {
		key  string
		want []string
		ok   bool
	}{{"arr", []string{"Wi-Fi", "Ethernet"}, true}, {"one", []string{"NotConfigured"}, true}, {"mixed", nil, false}, {"null", nil, false}, {"missing", nil, false}} {
		got, ok := Strings(row, tt.key)
		if ok != tt.ok || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Strings(%s) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
