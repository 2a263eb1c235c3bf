package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog"
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
)

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
