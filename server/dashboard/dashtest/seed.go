package dashtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog" // every control evaluates
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// RecordedAt is when the fixture snapshots were recorded.
var RecordedAt = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

// Now is a clock that fits the fixtures: twenty minutes after they were
// recorded, so that definitions and update ages read as they did then.
// Tests seed and serve at Now.
var Now = RecordedAt.Add(20 * time.Minute)

// Device describes one seeded device.
type Device struct {
	ID, Hostname, Org, Owner string
	// OS is the GOOS whose fixtures the device's reports come from.
	OS string
	// OSName and OSVersion are what the agent would report; Fleet sets
	// them to the fixture machine's.
	OSName, OSVersion string
	// Age is how long before now it last reported; negative: never.
	Age time.Duration
	// Unknown lists controls whose facts are withheld (unknown, failing).
	Unknown []checks.ControlID
	// Failing lists controls whose facts come from the OS's
	// non-compliant fixture on an otherwise compliant device.
	Failing []checks.ControlID
	// Compliant picks the compliant snapshot, else the non-compliant one.
	Compliant bool
	Revoked   bool
	// EnrolledAgo is how long before now it enrolled; zero means a day
	// before its report.
	EnrolledAgo time.Duration
	// HardwareKey records the device as enrolled with a TPM-attested key.
	HardwareKey bool
}

// snapshotDir is checks/testdata/snapshots, found from this file.
func snapshotDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "checks", "testdata", "snapshots")
}

// fixtures holds the collected reports of one OS's two fixture machines.
type fixtures struct{ good, bad *checks.Report }

// collect replays the compliant and non-compliant snapshot of each OS
// that devs use, at the snapshots' own recording time.
func collect(ctx context.Context, devs []Device) (map[string]fixtures, error) {
	out := map[string]fixtures{}
	load := func(name string) (*checks.Report, error) {
		h, err := host.OpenSnapshot(filepath.Join(snapshotDir(), name))
		if err != nil {
			return nil, fmt.Errorf("open snapshot %s: %w", name, err)
		}
		m := h.Meta()
		return checks.Collect(ctx, h, checks.Device{Hostname: m.Hostname, OS: m.GOOS, Arch: m.Arch}, m.RecordedAt), nil
	}
	for _, d := range devs {
		if _, ok := out[d.OS]; ok {
			continue
		}
		var f fixtures
		var err error
		if f.good, err = load(d.OS + "-compliant"); err != nil {
			return nil, err
		}
		if f.bad, err = load(d.OS + "-noncompliant"); err != nil {
			return nil, err
		}
		out[d.OS] = f
	}
	return out, nil
}

// Seed enrolls devs in st and stores one report each, as ingest would.
// Each device's report is its own OS's fixture, judged by pol at now.
func Seed(ctx context.Context, st store.Store, devs []Device, pol *checks.Policy, now time.Time) error {
	fx, err := collect(ctx, devs)
	if err != nil {
		return err
	}
	for i, d := range devs {
		_, tok, err := store.NewEnrollToken([32]byte{}, time.Hour, d.Org, d.Owner, now.Add(-d.Age-time.Hour))
		if err != nil {
			return err
		}
		if err := st.CreateToken(ctx, tok); err != nil {
			return err
		}
		info := checks.Device{Hostname: d.Hostname, OS: d.OS, OSName: d.OSName, OSVersion: d.OSVersion, Arch: archOf(d.OS)}
		sum := sha256.Sum256([]byte(d.ID))
		enrolledAt := now.Add(-d.Age - 24*time.Hour)
		if d.Age < 0 {
			enrolledAt = now.Add(-time.Duration(i%90) * time.Minute)
		}
		if d.EnrolledAgo > 0 {
			enrolledAt = now.Add(-d.EnrolledAgo)
		}
		key := store.KeySoftware
		if d.HardwareKey {
			key = store.KeyHardware
		}
		_, err = st.Enroll(ctx, tok.Hash, store.Device{ID: d.ID, CertSHA256: hex.EncodeToString(sum[:]), CertNotAfter: now.AddDate(0, 3, 0), Info: info, KeyKind: key}, enrolledAt)
		if err != nil {
			return fmt.Errorf("enroll %s: %w", d.ID, err)
		}
		if d.Age >= 0 {
			if err := ingest(ctx, st, d, info, fx[d.OS], pol, now.Add(-d.Age)); err != nil {
				return err
			}
		}
		if d.Revoked {
			if err := st.Revoke(ctx, d.ID, now.Add(-d.Age/2)); err != nil {
				return err
			}
		}
	}
	return nil
}

func ingest(ctx context.Context, st store.Store, d Device, info checks.Device, fx fixtures, pol *checks.Policy, at time.Time) error {
	base := fx.bad
	if d.Compliant {
		base = fx.good
	}
	rep := checks.Report{Device: info, CollectedAt: at}
	for i, o := range base.Observations {
		switch {
		case slices.Contains(d.Unknown, o.ID):
			o = checks.Observation{ID: o.ID, UnknownReason: "the agent could not read this setting (access denied)"}
		case slices.Contains(d.Failing, o.ID):
			o = fx.bad.Observations[i]
		}
		rep.Observations = append(rep.Observations, o)
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	failing := decision.Failing(checks.Evaluate(&rep, pol, at), pol)
	_, err = st.IngestReport(ctx, store.Ingest{Report: store.Report{DeviceID: d.ID, Sequence: 1, Hash: hex.EncodeToString(sum[:]),
		CollectedAt: at, ReceivedAt: at, Body: body}, Info: info, Failing: failing})
	if err != nil {
		return fmt.Errorf("ingest %s: %w", d.ID, err)
	}
	return nil
}

// archOf is the fixture machines' architecture: the Mac is Apple silicon.
func archOf(goos string) string {
	if goos == "darwin" {
		return "arm64"
	}
	return "amd64"
}
