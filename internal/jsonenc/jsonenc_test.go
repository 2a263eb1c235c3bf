package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAngleBracketsAndAmpersandsStay(t *testing.T) {
	v := map[string]any{"reason": "<script> & </script>", "raw": json.RawMessage(`{"a":"<&>"}`)}
	want := `{"raw":{"a":"<&>"},"reason":"<script> & </script>"}`
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want+"\n", b.String()); diff != "" {
		t.Errorf("Encoder (-want +got):\n%s", diff)
	}
	t.Run("what does not encode is an error", func(t *testing.T) {
		if _, err := Marshal(func() {}); err == nil {
			t.Error("a func encoded")
		}
	})
}
