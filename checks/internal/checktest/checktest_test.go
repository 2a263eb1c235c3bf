package checktest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type facts struct {
	Enabled bool   `json:"enabled"`
	Name    string `json:"name,omitempty"`
}

func TestTestdata(t *testing.T) {
	got := Testdata(t, "linux", "sample.txt")
	if diff := cmp.Diff("recorded output\n", string(got)); diff != "" {
		t.Errorf("bytes (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		in       any
		wantJSON string
		want     facts
	}{
		{"a value comes back as it was sent", facts{Enabled: true, Name: "ufw"}, `{"enabled":true,"name":"ufw"}`, facts{Enabled: true, Name: "ufw"}},
		{"a pointer is encoded as its value", &facts{}, `{"enabled":false}`, facts{}},
		{"fields the type lacks are dropped on decode", map[string]any{"enabled": true, "extra": 1}, `{"enabled":true,"extra":1}`, facts{Enabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, got := RoundTrip[facts](t, tt.in)
			if diff := cmp.Diff(tt.wantJSON, string(b)); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}
