package catalog_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
)

var update = flag.Bool("update", false, "rewrite the golden verdict files")

// fixtureNames are the whole-machine snapshots in ../testdata/snapshots.
var fixtureNames = []string{
	"linux-compliant", "linux-noncompliant",
	"windows-compliant", "windows-noncompliant",
	"darwin-compliant", "darwin-noncompliant",
}

func fixtureDir(name string) string { return filepath.Join("..", "testdata", "snapshots", name) }

func openFixture(t testing.TB, name string) *host.Replayer {
	t.Helper()
	h, err := host.OpenSnapshot(fixtureDir(name))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// recordedAt is when h was recorded, the time its fixture is judged at:
// ages such as anti-virus definitions' are measured to it.
func recordedAt(h host.Host) time.Time {
	if r, ok := h.(interface{ Meta() host.SnapshotMeta }); ok {
		return r.Meta().RecordedAt
	}
	return time.Time{}
}

// evaluateSnapshot runs the whole catalog on a recorded machine, as
// `postern-agent check --replay` does, at the time it was recorded.
func evaluateSnapshot(t testing.TB, name string) []checks.Verdict {
	t.Helper()
	h := openFixture(t, name)
	ctx := context.Background()
	at := h.Meta().RecordedAt
	r := checks.Collect(ctx, h, device.Collect(ctx, h), at)
	return checks.Evaluate(r, checks.DefaultPolicy(), at)
}

func TestFixturesAgainstGolden(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name+" evaluates as its golden file says", func(t *testing.T) {
			got, err := json.MarshalIndent(evaluateSnapshot(t, name), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("verdicts differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// passing reports whether a status lets a device in under the default
// policy: pass, or not_applicable where the control does not apply.
func passing(s checks.Status) bool {
	return s == checks.StatusPass || s == checks.StatusNotApplicable
}

func TestCompliantFixturesPassEveryControl(t *testing.T) {
	for _, name := range fixtureNames {
		if !strings.HasSuffix(name, "-compliant") {
			continue
		}
		t.Run(name+" passes every control with the default policy", func(t *testing.T) {
			vs := evaluateSnapshot(t, name)
			if len(vs) != len(checks.AllControlIDs) {
				t.Fatalf("%d verdicts, want %d", len(vs), len(checks.AllControlIDs))
			}
			for _, v := range vs {
				if !passing(v.Status) {
					t.Errorf("%s = %s: %s", v.ID, v.Status, v.Summary)
				}
			}
		})
	}
}

func TestNoncompliantFixturesFailMostControls(t *testing.T) {
	for _, name := range fixtureNames {
		if !strings.HasSuffix(name, "-noncompliant") {
			continue
		}
		t.Run(name+" fails most controls for stated reasons", func(t *testing.T) {
			fails := 0
			for _, v := range evaluateSnapshot(t, name) {
				switch v.Status {
				case checks.StatusFail:
					fails++
					if v.Remediation == "" {
						t.Errorf("%s fails without a remediation", v.ID)
					}
				case checks.StatusUnknown:
					if v.Summary == "" {
						t.Errorf("%s is unknown without a reason", v.ID)
					}
				}
			}
			if fails <= len(checks.AllControlIDs)/2 {
				t.Errorf("only %d of %d controls fail", fails, len(checks.AllControlIDs))
			}
		})
	}
}
