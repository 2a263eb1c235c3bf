package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func TestEncodeBody(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	dev := checks.Device{Hostname: `laptop "7" <clinic> & co`, OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.26100", Arch: "amd64"}
	tests := []struct {
		name string
		r    *checks.Report
	}{
		{"a report without observations", &checks.Report{Device: dev, CollectedAt: at, Observations: []checks.Observation{}}},
		{"facts keep the agent's spacing and unicode", &checks.Report{Device: dev, CollectedAt: at, Observations: []checks.Observation{
			{ID: checks.Firewall, Facts: json.RawMessage("{ \"enabled\" : true,\n \"profiles\": [\"Domain\", \"Privé\\u00e9\"] }")},
			{ID: checks.ScreenLock, Facts: json.RawMessage(`{"timeout_seconds":900,"note":"<b>&</b>"}`)},
		}}},
		{"unknown reasons are escaped", &checks.Report{Device: dev, CollectedAt: at, Observations: []checks.Observation{
			{ID: checks.Antivirus, UnknownReason: "wmic said \"access denied\"\n\tand \x01 <more>"},
			{ID: checks.DiskEncryption, Facts: json.RawMessage(`[]`), UnknownReason: "partial"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeBody(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			want, err := json.Marshal(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &wantV); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("body differs from json.Marshal (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("an unknown control is refused", func(t *testing.T) {
		r := &checks.Report{Device: dev, CollectedAt: at, Observations: []checks.Observation{{ID: `bad"id`}}}
		if _, err := encodeBody(r); err == nil {
			t.Error("want an error")
		}
	})
}

func BenchmarkEncodeBody(b *testing.B) {
	r, err := checks.FromWire(benchReport("laptop-00001"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encodeBody", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeBody(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
