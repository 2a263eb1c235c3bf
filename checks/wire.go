package checks

import (
	"fmt"
	"strings"
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
			Hostname: wireString(r.Device.Hostname, MaxDeviceField, false), Os: wireString(r.Device.OS, MaxDeviceField, false),
			OsName: wireString(r.Device.OSName, MaxDeviceField, false), OsVersion: wireString(r.Device.OSVersion, MaxDeviceField, false),
			Arch: wireString(r.Device.Arch, MaxDeviceField, false),
		},
	}
	for _, o := range r.Observations {
		w.Controls = append(w.Controls, &pb.ControlFacts{Id: string(o.ID), FactsJson: o.Facts, UnknownReason: wireString(o.UnknownReason, MaxUnknownReason, true)})
	}
	return w
}

// wireString makes a string the server accepts: valid UTF-8, control
// characters (which a hostname or a tool's error text can carry, and
// which some databases refuse) replaced by U+FFFD — tabs and line ends
// kept where multiline is set — and cut to max bytes on a character
// boundary. A good agent's report is then never refused for its strings.
func wireString(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return isControl(r, multiline) }) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isControl(r, multiline) {
				return utf8.RuneError
			}
			return r
		}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// isControl is a C0 control character or DEL; multiline allows tab, LF
// and CR.
func isControl(r rune, multiline bool) bool {
	if multiline && (r == '\t' || r == '\n' || r == '\r') {
		return false
	}
	return r < 0x20 || r == 0x7f
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
		if err := checkString(v, MaxDeviceField, false); err != nil {
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
		if err := checkString(c.GetUnknownReason(), MaxUnknownReason, true); err != nil {
			return nil, fmt.Errorf("report: control %s unknown_reason: %w", id, err)
		}
		if len(c.GetFactsJson()) > 0 && !jsonValid(c.GetFactsJson()) {
			return nil, fmt.Errorf("report: control %s: facts are not valid JSON", id)
		}
		r.Observations = append(r.Observations, Observation{ID: id, Facts: c.GetFactsJson(), UnknownReason: c.GetUnknownReason()})
	}
	return r, nil
}

func checkString(s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("not valid UTF-8")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return isControl(r, multiline) }); i >= 0 {
		return fmt.Errorf("control character %U at byte %d", rune(s[i]), i)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
