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
		{"a NUL in the hostname", func(r *pb.Report) { r.Device.Hostname = "lap\x00top" }, "device hostname: control character U+0000 at byte 3"},
		{"an escape sequence in the OS name", func(r *pb.Report) { r.Device.OsName = "\x1b[31mred" }, "device os_name: control character U+001B"},
		{"a NUL in an unknown reason", func(r *pb.Report) { r.Controls[0].UnknownReason = "tool said \x00" }, "unknown_reason: control character"},
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

func TestToWireMakesStringsTheServerAccepts(t *testing.T) {
	r := &Report{
		Device: Device{Hostname: "lap\x00top\xff", OSName: strings.Repeat("é", MaxDeviceField)},
		Observations: []Observation{{ID: Firewall, Facts: []byte(`{}`),
			UnknownReason: "nft: line one\nline two\twith a tab \x1b[0m" + strings.Repeat("y", MaxUnknownReason)}},
	}
	got, err := FromWire(ToWire(r, 1))
	if err != nil {
		t.Fatalf("the server refuses what the agent sends: %v", err)
	}
	if got.Device.Hostname != "lap\ufffdtop\ufffd" {
		t.Errorf("hostname = %q", got.Device.Hostname)
	}
	if n := len(got.Device.OSName); n > MaxDeviceField || n%2 != 0 {
		t.Errorf("os name cut to %d bytes, not on a character boundary within %d", n, MaxDeviceField)
	}
	if reason := got.Observations[0].UnknownReason; !strings.HasPrefix(reason, "nft: line one\nline two\twith a tab \ufffd[0m") || len(reason) > MaxUnknownReason {
		t.Errorf("unknown reason = %.60q (%d bytes)", reason, len(reason))
	}
}
