package screenlock

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// TestCollectDarwinRealCaptures replays `pmset -g custom` and
// `sysadminctl -screenLock status` outputs printed by real Macs (sources
// in testdata/README.md). None of these machines has a ByHost screen
// saver file, so the screen saver starts at macOS's 20 minute default.
func TestCollectDarwinRealCaptures(t *testing.T) {
	tests := []struct {
		name        string
		sysadminctl string
		pmset       string
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
		wantLockAC  any
		wantLockDC  any
	}{
		{"a MacBook whose display sleeps after 30 minutes on mains, with a 5 minute password grace, fails on mains",
			"sysadminctl__300_seconds.txt", "pmset-custom__macbook_display30_dainslef.txt",
			checks.StatusFail, "25 min idle on mains", 1500, 1500, 360},
		{"the same MacBook asking for the password immediately passes at the screen saver's 20 minutes",
			"sysadminctl__immediate.txt", "pmset-custom__macbook_display30_dainslef.txt",
			checks.StatusPass, "20 min idle on mains", 1200, 1200, 60},
		{"a MacBook that sleeps after a minute on both power sources passes",
			"sysadminctl__immediate.txt", "pmset-custom__macbook_fleet_fixture.txt",
			checks.StatusPass, "1 min idle", 60, 60, 60},
		{"sysadminctl answering with an error instead of a state is unknown and quotes it",
			"sysadminctl__password_required_devicelocker.txt", "pmset-custom__macbook_fleet_fixture.txt",
			checks.StatusUnknown, "Password is required!", "never", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, macHost(t, tc.sysadminctl, tc.pmset))
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; routes %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Routes)
			}
			got := []any{res.Evidence["effective_lock_seconds"], res.Evidence["lock_seconds_"+PowerAC], res.Evidence["lock_seconds_"+PowerBattery]}
			if tc.wantStatus == checks.StatusUnknown {
				got = []any{got[0], nil, nil}
			}
			if diff := cmp.Diff([]any{tc.wantLock, tc.wantLockAC, tc.wantLockDC}, got); diff != "" {
				t.Errorf("effective, mains, battery lock seconds (-want +got):\n%s", diff)
			}
			if f.HasBattery == nil || !*f.HasBattery {
				t.Errorf("HasBattery = %v, want true for a MacBook", f.HasBattery)
			}
		})
	}
}

// TestParsePmsetCustomRealCaptures checks the timers read from the real
// captures, in minutes (0 is never).
func TestParsePmsetCustomRealCaptures(t *testing.T) {
	tests := []struct {
		file string
		want map[string]pmsetProfile
	}{
		{"pmset-custom__macbook_display30_dainslef.txt", map[string]pmsetProfile{
			PowerBattery: {displaySleep: 2, sleep: 1}, PowerAC: {displaySleep: 30, sleep: 0}}},
		{"pmset-custom__macbook_fleet_fixture.txt", map[string]pmsetProfile{
			PowerBattery: {displaySleep: 2, sleep: 1}, PowerAC: {displaySleep: 10, sleep: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := parsePmsetCustom(checktest.Testdata(t, "darwin", tc.file))
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(pmsetProfile{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
