package osautoupdate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The MDM Update/AllowAutoUpdate registry values are hand-written, one per
// documented value (see testdata/README.md).
func TestCollectWindowsMDMAllowAutoUpdate(t *testing.T) {
	reg := func(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
	win := func() *host.Fake {
		return host.NewFake("windows", "amd64").AddRegistry(wuauservKey, "Start", reg(3), nil)
	}
	mdm := func(n uint64) *host.Fake { return win().AddRegistry(mdmUpdateKey, "AllowAutoUpdate", reg(n), nil) }
	tests := []struct {
		name      string
		h         *host.Fake
		wantLevel string
		want      checks.Status
		wantInSum string
	}{
		{"MDM value 0 only notifies and fails", mdm(0), LevelNotify, checks.StatusFail, "AllowAutoUpdate 0"},
		{"MDM value 1 installs automatically and passes", mdm(1), LevelInstall, checks.StatusPass, "AllowAutoUpdate 1"},
		{"MDM value 2, Windows' default, passes", mdm(2), LevelInstall, checks.StatusPass, "AllowAutoUpdate 2"},
		{"MDM value 3 installs at a set time and passes", mdm(3), LevelInstall, checks.StatusPass, "AllowAutoUpdate 3"},
		{"MDM value 4 installs without user control and passes", mdm(4), LevelInstall, checks.StatusPass, "AllowAutoUpdate 4"},
		{"MDM value 5 turns updates off and fails", mdm(5), LevelOff, checks.StatusFail, "AllowAutoUpdate 5"},
		{"an undocumented MDM value is unknown", mdm(9), LevelUnknown, checks.StatusUnknown, "not a documented value"},
		{"an MDM that installs does not lift a Group Policy that only notifies",
			mdm(2).AddRegistry(auPolicyKey, "AUOptions", reg(2), nil), LevelNotify, checks.StatusFail, "AUOptions 2"},
		{"without an MDM Windows installs automatically", win(), LevelInstall, checks.StatusPass, "no update policy is set"},
	}
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := collectWindows(tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Mechanisms[0].Level; got != tc.wantLevel {
				t.Errorf("level %q, want %q (%s)", got, tc.wantLevel, f.Mechanisms[0].Reason)
			}
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			res := Evaluate(checks.EvalInput{OS: "windows", Facts: b, Thresholds: DefaultThresholds(), Now: now})
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("got %s %q, want %s mentioning %q", res.Status, res.Summary, tc.want, tc.wantInSum)
			}
		})
	}
}
