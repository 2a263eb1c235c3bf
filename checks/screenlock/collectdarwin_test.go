package screenlock

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var (
	statArgv        = []string{"/usr/bin/stat", "-f", "%Su %u", "/dev/console"}
	dsclArgv        = []string{"/usr/bin/dscl", "-plist", ".", "-read", "/Users/alice", "NFSHomeDirectory"}
	sysadminctlArgv = []string{launchctlPath, "asuser", "501", sudoPath, "-u", "alice", sysadminctlPath, "-screenLock", "status"}
	pmsetArgv       = []string{pmsetPath, "-g", "custom"}
	byHostGlob      = "/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.*.plist"
	byHostFile      = "/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.6A1B2C3D-0000-4E5F-8A9B-0C1D2E3F4A5B.plist"
)

// macHost is a MacBook with alice at the console and the given
// sysadminctl and pmset outputs.
func macHost(t *testing.T, sysadminctl, pmset string) *host.Fake {
	return host.NewFake("darwin", "arm64").
		AddRun(statArgv, host.Output{Stdout: []byte("alice 501\n")}, nil).
		AddRun(dsclArgv, host.Output{Stdout: []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>dsAttrTypeStandard:NFSHomeDirectory</key>\n\t<array>\n\t\t<string>/Users/alice</string>\n\t</array>\n</dict>\n</plist>\n")}, nil).
		AddRun(sysadminctlArgv, host.Output{Stderr: checktest.Testdata(t, "darwin", sysadminctl)}, nil).
		AddRun(pmsetArgv, host.Output{Stdout: checktest.Testdata(t, "darwin", pmset)}, nil)
}

func withByHost(t *testing.T, h *host.Fake) *host.Fake {
	return h.AddGlob(byHostGlob, []string{byHostFile}, nil).
		AddFile(byHostFile, checktest.Testdata(t, "darwin", "byhost-screensaver__idle_600.plist"))
}

func TestCollectDarwin(t *testing.T) {
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"display sleep with an immediate password passes on both power sources",
			withByHost(t, macHost(t, "sysadminctl__immediate.txt", "pmset-custom__macbook.txt")),
			checks.StatusPass, "10 min idle on mains", 600},
		{"a password only after 5 minutes adds to the idle time",
			withByHost(t, macHost(t, "sysadminctl__300_seconds.txt", "pmset-custom__macbook.txt")),
			checks.StatusPass, "15 min idle on mains", 900},
		{"screen lock off never locks and fails",
			withByHost(t, macHost(t, "sysadminctl__off.txt", "pmset-custom__macbook.txt")),
			checks.StatusFail, "never locks", "never"},
		{"a desktop that never sleeps falls back to the default 20 minute screen saver",
			macHost(t, "sysadminctl__immediate.txt", "pmset-custom__desktop_never.txt"),
			checks.StatusPass, "20 min idle", 1200},
		{"a managed profile wins over the user and sysadminctl",
			withByHost(t, macHost(t, "sysadminctl__off.txt", "pmset-custom__desktop_never.txt")).
				AddFile("/Library/Managed Preferences/com.apple.screensaver.plist", checktest.Testdata(t, "darwin", "managed-screensaver__profile_300.plist")),
			checks.StatusPass, "5 min 5 s idle", 305},
		{"sysadminctl missing is unknown with the reason",
			withByHost(t, macHost(t, "sysadminctl__immediate.txt", "pmset-custom__macbook.txt")).
				AddRun(sysadminctlArgv, host.Output{}, host.ErrNotFound),
			checks.StatusUnknown, "sysadminctl is not available", "never"},
		{"the login window is unknown with the reason",
			macHost(t, "sysadminctl__immediate.txt", "pmset-custom__desktop_never.txt").
				AddRun(statArgv, host.Output{Stdout: []byte("root 0\n")}, nil),
			checks.StatusUnknown, "login window", "never"},
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
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "System Settings > Lock Screen") {
				t.Errorf("remediation %q is not the macOS one", res.Remediation)
			}
		})
	}
}

func TestCollectDarwinPicksTheNewestByHostFile(t *testing.T) {
	old := "/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.00000000-0000-0000-0000-000000000000.plist"
	h := macHost(t, "sysadminctl__immediate.txt", "pmset-custom__desktop_never.txt").
		AddGlob(byHostGlob, []string{old, byHostFile}, nil).
		AddFile(old, []byte(`<plist version="1.0"><dict><key>idleTime</key><integer>3600</integer></dict></plist>`)).
		AddStat(old, host.FileInfo{ModTime: time.Unix(1e9, 0)}, nil).
		AddFile(byHostFile, checktest.Testdata(t, "darwin", "byhost-screensaver__idle_600.plist")).
		AddStat(byHostFile, host.FileInfo{ModTime: time.Unix(2e9, 0)}, nil)
	res, _ := collectAndEvaluate(t, h)
	if res.Status != checks.StatusPass || res.Evidence["effective_lock_seconds"] != 600 {
		t.Errorf("got %s %q", res.Status, res.Summary)
	}
}

func TestParseScreenLockStatus(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantReq   bool
		wantDelay int
		wantOK    bool
	}{
		{"immediate", "2024-05-02 10:11:12.345 sysadminctl[1:2] screenLock delay is immediate\n", true, 0, true},
		{"seconds", "screenLock delay is 300 seconds", true, 300, true},
		{"off", "screenLock is off", false, 0, true},
		{"a negative delay means off", "screenLock delay is -1.000000 seconds", false, 0, true},
		{"an error is not a state", "sysadminctl: Operation is not permitted", false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, delay, ok := parseScreenLockStatus([]byte(tc.in))
			if diff := cmp.Diff([]any{tc.wantReq, tc.wantDelay, tc.wantOK}, []any{req, delay, ok}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
