package screenlock

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// withPowercfg answers `powercfg FLAG SCHEME_CURRENT SUB SETTING` with a
// testdata file.
func withPowercfg(t *testing.T, h *host.Fake, flag, sub, setting, file string) *host.Fake {
	return h.AddRun([]string{powercfgPath, flag, "SCHEME_CURRENT", sub, setting}, host.Output{Stdout: checktest.Testdata(t, "windows", file)}, nil)
}

// modernStandby is a Modern Standby laptop whose display turns off after
// 10 minutes on mains and 5 on battery (the real VIDEOIDLE sample), whose
// sleep and CONSOLELOCK come from powercfg, and whose user has no screen
// saver.
func modernStandby(t *testing.T) *host.Fake {
	h := withConsoleUser(windowsHost()).AddRegistry(powerKey, "CsEnabled", dword(1), nil)
	h = withPowercfg(t, h, "/qh", subVideo, videoIdle, "powercfg-q__sub_video_excerpt.txt")
	h = withPowercfg(t, h, "/qh", subSleep, standbyIdle, "powercfg-query__sub_sleep_ac_never.txt")
	return withPowercfg(t, h, "/qh", subNone, consoleLock, "powercfg__consolelock_en.txt")
}

func TestCollectWindowsModernStandbySignIn(t *testing.T) {
	desktop := `HKU\` + aliceSID + `\` + userDesktopKey
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"sign-in every time after the display turns off passes on both power sources",
			modernStandby(t).AddRegistry(desktop, delayLockValue, dword(0), nil),
			checks.StatusPass, "10 min idle on mains (display off, then sign-in", 600},
		{"sign-in 15 minutes after the display turns off is over the limit on mains",
			modernStandby(t).AddRegistry(desktop, delayLockValue, dword(900), nil),
			checks.StatusFail, "25 min idle on mains", 1500},
		{"sign-in never, with sleep off on mains, never locks on mains, nor when waking",
			modernStandby(t).AddRegistry(desktop, delayLockValue, dword(0xFFFFFFFF), nil),
			checks.StatusFail, `asks no password; and waking from suspend does not ask for the password: "Require sign-in: if you've been away" is Never (DelayLockInterval)`, "never"},
		{"the machine policy against delaying sign-in overrides the user's never",
			modernStandby(t).AddRegistry(desktop, delayLockValue, dword(0xFFFFFFFF), nil).
				AddRegistry(systemPolicyKey, domainDelayPolicy, dword(0), nil),
			checks.StatusPass, "10 min idle on mains", 600},
		{"an unreadable DelayLockInterval is unknown with the reason",
			modernStandby(t).AddRegistry(desktop, delayLockValue, host.RegistryValue{}, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "DelayLockInterval: access denied", "never"},
		{"a user who never chose a sign-in delay is not counted and fails on mains",
			modernStandby(t), checks.StatusFail, "never locks", "never"},
		{"a machine that is not Modern Standby ignores DelayLockInterval",
			modernStandby(t).AddRegistry(desktop, delayLockValue, dword(0), nil).
				AddRegistry(powerKey, "CsEnabled", dword(0), nil),
			checks.StatusFail, "never locks", "never"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; routes %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Routes)
			}
			if diff := cmp.Diff(tc.wantLock, res.Evidence["effective_lock_seconds"]); diff != "" {
				t.Errorf("effective_lock_seconds (-want +got):\n%s", diff)
			}
		})
	}
}
