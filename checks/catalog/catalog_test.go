package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog"
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
)

var update = flag.Bool("update", false, "rewrite golden files and the composed laptop snapshots")

func TestEveryControlIsRegistered(t *testing.T) {
	for _, id := range checks.AllControlIDs {
		t.Run(string(id)+" is registered with a collector and an evaluator", func(t *testing.T) {
			c, ok := checks.Lookup(id)
			if !ok || c.Collect == nil || c.Evaluate == nil {
				t.Fatalf("control %s is missing or incomplete", id)
			}
		})
	}
}

func TestDefaultPolicyHasThresholds(t *testing.T) {
	withThresholds := []checks.ControlID{checks.PasswordPolicy, checks.OSPatched, checks.Antivirus, checks.ScreenLock, checks.WiFiEncryption}
	p := checks.DefaultPolicy()
	for _, id := range withThresholds {
		t.Run(string(id)+" has valid default thresholds", func(t *testing.T) {
			th := p.Control(id).Thresholds
			if th == nil {
				t.Fatal("no thresholds")
			}
			v, ok := th.(interface{ Validate() error })
			if !ok {
				t.Fatal("thresholds have no Validate method")
			}
			if err := v.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestPolicyFileOverridesThresholds(t *testing.T) {
	p, err := checks.ParsePolicy([]byte("controls:\n  screen_lock:\n    max_idle_seconds: 600\n  antivirus:\n    max_definition_age: 48h\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p.Control(checks.ScreenLock).Thresholds)
	if !bytes.Contains(b, []byte(`600`)) {
		t.Errorf("screen_lock thresholds = %s", b)
	}
	if _, err := checks.ParsePolicy([]byte("controls:\n  password_policy:\n    min_classes: 9\n")); err == nil {
		t.Error("an out-of-range threshold was accepted")
	}
}

// evaluateSnapshot runs the whole catalog on a recorded machine, as
// `postern-agent check --replay` does, at the time it was recorded.
func evaluateSnapshot(t *testing.T, dir string) []checks.Verdict {
	t.Helper()
	h, err := host.OpenSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := h.Meta().RecordedAt
	r := checks.Collect(ctx, h, device.Collect(ctx, h), at)
	return checks.Evaluate(r, checks.DefaultPolicy(), at)
}

func TestLaptopSnapshotsAgainstGolden(t *testing.T) {
	for _, name := range []string{"linux-compliant", "linux-noncompliant"} {
		t.Run(name+" evaluates as its golden file says", func(t *testing.T) {
			got, err := json.MarshalIndent(evaluateSnapshot(t, filepath.Join("..", "testdata", "snapshots", name)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("verdicts differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestLaptopSnapshotsPassAndFailAsAdvertised(t *testing.T) {
	tests := []struct {
		name string
		want checks.Status
	}{
		{"linux-compliant", checks.StatusPass},
		{"linux-noncompliant", checks.StatusFail},
	}
	for _, tc := range tests {
		t.Run(tc.name+" has firewall and disk encryption "+string(tc.want), func(t *testing.T) {
			for _, v := range evaluateSnapshot(t, filepath.Join("..", "testdata", "snapshots", tc.name)) {
				if (v.ID == checks.Firewall || v.ID == checks.DiskEncryption) && v.Status != tc.want {
					t.Errorf("%s = %s (%s), want %s", v.ID, v.Status, v.Summary, tc.want)
				}
			}
		})
	}
}

func Example() {
	h, err := host.OpenSnapshot("../testdata/snapshots/linux-compliant")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	at := h.Meta().RecordedAt
	dev := device.Collect(ctx, h)
	report := checks.Collect(ctx, h, dev, at)
	fmt.Println(dev.Hostname, dev.OSName, dev.OSVersion, dev.Arch)
	for _, v := range checks.Evaluate(report, checks.DefaultPolicy(), at) {
		if v.ID == checks.Firewall || v.ID == checks.DiskEncryption {
			fmt.Println(v.ID, v.Status)
		}
	}
	// Output:
	// ibhis-laptop-01 Debian GNU/Linux 12 amd64
	// firewall pass
	// disk_encryption pass
}
