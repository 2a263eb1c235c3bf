package dashtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"time"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog" // every control evaluates
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// Device describes one seeded device.
type Device struct {
	ID, Hostname, Org, Owner, OS, OSName, OSVersion string
	// Age is how long before now it last reported; negative: never.
	Age time.Duration
	// Unknown lists controls whose facts are withheld (unknown, failing).
	Unknown []checks.ControlID
	// Compliant picks the compliant snapshot, else the non-compliant one.
	Compliant bool
	Revoked   bool
}

// snapshotDir is checks/testdata/snapshots, found from this file.
func snapshotDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "checks", "testdata", "snapshots")
}

// templates collects one report per snapshot.
func templates(ctx context.Context, now time.Time) (good, bad *checks.Report, err error) {
	load := func(name string) (*checks.Report, error) {
		h, err := host.OpenSnapshot(filepath.Join(snapshotDir(), name))
		if err != nil {
			return nil, fmt.Errorf("open snapshot %s: %w", name, err)
		}
		return checks.Collect(ctx, h, checks.Device{OS: "linux"}, now), nil
	}
	if good, err = load("linux-compliant"); err != nil {
		return nil, nil, err
	}
	bad, err = load("linux-noncompliant")
	return good, bad, err
}

// Seed enrolls devs in st and stores one report each, as ingest would.
func Seed(ctx context.Context, st store.Store, devs []Device, pol *checks.Policy, now time.Time) error {
	good, bad, err := templates(ctx, now)
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
		info := checks.Device{Hostname: d.Hostname, OS: d.OS, OSName: d.OSName, OSVersion: d.OSVersion, Arch: "amd64"}
		sum := sha256.Sum256([]byte(d.ID))
		enrolledAt := now.Add(-d.Age - 24*time.Hour)
		if d.Age < 0 {
			enrolledAt = now.Add(-time.Duration(i%90) * time.Minute)
		}
		_, err = st.Enroll(ctx, tok.Hash, store.Device{ID: d.ID, CertSHA256: hex.EncodeToString(sum[:]), CertNotAfter: now.AddDate(0, 3, 0), Info: info}, enrolledAt)
		if err != nil {
			return fmt.Errorf("enroll %s: %w", d.ID, err)
		}
		if d.Age >= 0 {
			tmpl := bad
			if d.Compliant {
				tmpl = good
			}
			if err := ingest(ctx, st, d, info, tmpl, pol, now.Add(-d.Age)); err != nil {
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

func ingest(ctx context.Context, st store.Store, d Device, info checks.Device, tmpl *checks.Report, pol *checks.Policy, at time.Time) error {
	rep := checks.Report{Device: info, CollectedAt: at}
	for _, o := range tmpl.Observations {
		for _, u := range d.Unknown {
			if o.ID == u {
				o = checks.Observation{ID: o.ID, UnknownReason: "the agent could not read this setting (access denied)"}
			}
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

var (
	orgs    = []string{"Eastside Clinic", "County Behavioral Health", "Harbor Family Services", "Northgate Counseling", "Valley Recovery Center"}
	first   = []string{"maria", "james", "aisha", "wei", "carlos", "fatima", "liam", "sofia", "daniel", "priya", "noah", "elena", "omar", "grace", "hiro"}
	last    = []string{"garcia", "nguyen", "patel", "kim", "johnson", "okafor", "silva", "chen", "rossi", "haddad", "brown", "lopez"}
	systems = []struct{ os, name, version, prefix string }{
		{"windows", "Windows 11 Pro", "10.0.22631", "WS"},
		{"windows", "Windows 10 Enterprise", "10.0.19045", "WS"},
		{"darwin", "macOS Sonoma", "14.6.1", "MBP"},
		{"darwin", "macOS Sequoia", "15.3", "MBA"},
		{"linux", "Ubuntu 24.04.1 LTS", "24.04", "lnx"},
		{"linux", "Debian GNU/Linux 12", "12.9", "deb"},
	}
	unknownable = []checks.ControlID{checks.Antivirus, checks.ScreenLock, checks.OSPatched, checks.Firewall, checks.DiskEncryption, checks.PasswordPolicy}
)

// Fleet returns n realistic devices: mostly compliant, some failing one
// or two controls, some stale, inactive or revoked. The same seed gives
// the same fleet.
func Fleet(n int, seed uint64) []Device {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Device, n)
	for i := range out {
		sys := systems[rng.IntN(len(systems))]
		owner := first[rng.IntN(len(first))] + "." + last[rng.IntN(len(last))]
		d := Device{
			ID:       fmt.Sprintf("dev_%016x", rng.Uint64()),
			Hostname: fmt.Sprintf("%s-%s-%03d", sys.prefix, owner[:1]+last[rng.IntN(len(last))], i%1000),
			Org:      orgs[rng.IntN(len(orgs))], Owner: owner,
			OS: sys.os, OSName: sys.name, OSVersion: sys.version,
			Age: time.Duration(rng.IntN(600)) * time.Second, Compliant: true,
		}
		switch p := rng.IntN(100); {
		case p < 12:
			d.Unknown = []checks.ControlID{unknownable[rng.IntN(len(unknownable))]}
		case p < 16:
			d.Compliant = false
		case p < 22:
			d.Age = time.Duration(1+rng.IntN(72)) * time.Hour
		case p < 25:
			d.Age = time.Duration(31+rng.IntN(60)) * 24 * time.Hour
		case p < 27:
			d.Revoked = true
		case p < 28:
			d.Age = -1
		}
		out[i] = d
	}
	return out
}
