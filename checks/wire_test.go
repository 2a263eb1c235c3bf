package checks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	pb "github.com/postern-dev/postern/proto"
)

func TestWireRoundTrip(t *testing.T) {
	r := &Report{
		Device:      Device{Hostname: "h", OS: "linux", OSName: "Debian GNU/Linux", OSVersion: "12", Arch: "amd64"},
		CollectedAt: time.Date(2026, 11, 23, 1, 2, 3, 4, time.UTC),
		Observations: []Observation{
			{ID: Firewall, Facts: json.RawMessage(`{"a":1}`)},
			{ID: Antivirus, UnknownReason: "clamd not installed"},
		},
	}
	got, err := FromWire(ToWire(r, 3))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFromWireRefusesHostileReports(t *testing.T) {
	ok := func() *pb.Report {
		return &pb.Report{Sequence: 1, Device: &pb.DeviceInfo{Hostname: "h"}, Controls: []*pb.ControlFacts{{Id: "firewall", FactsJson: []byte(`{}`)}}}
	}
	tests := []struct {
		name   string
		mutate func(*pb.Report)
		want   string
	}{
		{"a hostname over the bound", func(r *pb.Report) { r.Device.Hostname = strings.Repeat("x", MaxDeviceField+1) }, "device hostname: longer than"},
		{"a hostname that is not UTF-8", func(r *pb.Report) { r.Device.Hostname = "\xff\xfe" }, "not valid UTF-8"},
		{"an unknown control", func(r *pb.Report) { r.Controls[0].Id = "<script>" }, `unknown control "<script>"`},
		{"a control twice", func(r *pb.Report) { r.Controls = append(r.Controls, r.Controls[0]) }, "appears twice"},
		{"facts that are not JSON", func(r *pb.Report) { r.Controls[0].FactsJson = []byte("{") }, "not valid JSON"},
		{"facts over the bound", func(r *pb.Report) { r.Controls[0].FactsJson = make([]byte, MaxFactsSize+1) }, "exceed"},
		{"too many controls", func(r *pb.Report) {
			for i := 0; i < len(AllControlIDs); i++ {
				r.Controls = append(r.Controls, &pb.ControlFacts{Id: "firewall"})
			}
		}, "controls, at most"},
		{"an unknown reason over the bound", func(r *pb.Report) { r.Controls[0].UnknownReason = strings.Repeat("y", MaxUnknownReason+1) }, "unknown_reason"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			r := ok()
			tt.mutate(r)
			_, err := FromWire(r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
	if _, err := FromWire(nil); err == nil {
		t.Error("accepted a nil report")
	}
}
