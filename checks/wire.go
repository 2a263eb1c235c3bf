package checks

import (
	"fmt"
	"time"
	"unicode/utf8"

	pb "github.com/postern-dev/postern/proto"
)

// Bounds on agent-supplied strings; the server refuses reports beyond them.
const (
	MaxDeviceField   = 256
	MaxUnknownReason = 1024
)

// ToWire converts a report to its protocol form with the given sequence.
func ToWire(r *Report, seq uint64) *pb.Report {
	w := &pb.Report{
		Sequence:            seq,
		CollectedAtUnixNano: r.CollectedAt.UnixNano(),
		Device: &pb.DeviceInfo{
			Hostname: r.Device.Hostname, Os: r.Device.OS, OsName: r.Device.OSName,
			OsVersion: r.Device.OSVersion, Arch: r.Device.Arch,
		},
	}
	for _, o := range r.Observations {
		w.Controls = append(w.Controls, &pb.ControlFacts{Id: string(o.ID), FactsJson: o.Facts, UnknownReason: o.UnknownReason})
	}
	return w
}

// FromWire validates a report received from an agent and converts it.
// Every string is bounded and must be UTF-8, control IDs must be known and
// appear once, and facts must fit MaxFactsSize; anything else is an error
// that names the offending field.
func FromWire(w *pb.Report) (*Report, error) {
	if w == nil {
		return nil, fmt.Errorf("report: missing")
	}
	d := w.GetDevice()
	dev := Device{
		Hostname: d.GetHostname(), OS: d.GetOs(), OSName: d.GetOsName(),
		OSVersion: d.GetOsVersion(), Arch: d.GetArch(),
	}
	for name, v := range map[string]string{"hostname": dev.Hostname, "os": dev.OS, "os_name": dev.OSName, "os_version": dev.OSVersion, "arch": dev.Arch} {
		if err := checkString(v, MaxDeviceField); err != nil {
			return nil, fmt.Errorf("report: device %s: %w", name, err)
		}
	}
	if len(w.GetControls()) > len(AllControlIDs) {
		return nil, fmt.Errorf("report: %d controls, at most %d", len(w.GetControls()), len(AllControlIDs))
	}
	r := &Report{Device: dev, CollectedAt: time.Unix(0, w.GetCollectedAtUnixNano()).UTC()}
	seen := map[ControlID]bool{}
	for _, c := range w.GetControls() {
		id := ControlID(c.GetId())
		if !id.Valid() {
			return nil, fmt.Errorf("report: unknown control %q", truncate(c.GetId(), 64))
		}
		if seen[id] {
			return nil, fmt.Errorf("report: control %s appears twice", id)
		}
		seen[id] = true
		if len(c.GetFactsJson()) > MaxFactsSize {
			return nil, fmt.Errorf("report: control %s: facts exceed %d bytes", id, MaxFactsSize)
		}
		if err := checkString(c.GetUnknownReason(), MaxUnknownReason); err != nil {
			return nil, fmt.Errorf("report: control %s unknown_reason: %w", id, err)
		}
		if len(c.GetFactsJson()) > 0 && !jsonValid(c.GetFactsJson()) {
			return nil, fmt.Errorf("report: control %s: facts are not valid JSON", id)
		}
		r.Observations = append(r.Observations, Observation{ID: id, Facts: c.GetFactsJson(), UnknownReason: c.GetUnknownReason()})
	}
	return r, nil
}

func checkString(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
