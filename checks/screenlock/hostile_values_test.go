package screenlock

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// TestHostileTimeouts replays values a user can write into their own
// settings (or a tool can print) that are not real timeouts: numbers so
// large that idle time plus grace wrapped negative and read as "locks at
// once", negatives, NaN and wrong types. None may pass. Found by the fuzz
// targets in fuzz_collect_test.go.
func TestHostileTimeouts(t *testing.T) {
	maxInt := "9223372036854775807"
	byHost := func(value string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>idleTime</key>` + value + `</dict></plist>`)
	}
	mac := func(idle string) *host.Fake {
		return macHost(t, "sysadminctl__immediate.txt", "pmset-custom__desktop_never.txt").
			AddGlob(byHostGlob, []string{byHostFile}, nil).AddFile(byHostFile, byHost(idle))
	}
	kde := func(rc string) *host.Fake {
		return linuxSession(t, "logind-session__kde_x11.txt").AddFile(aliceHome+"/.config/kscreenlockerrc", []byte(rc))
	}
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
	}{
		{"a Windows screen saver timeout of 2⁶³-1 seconds fails instead of wrapping to a pass",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 3600, 3600, 1, 1), userDesktopKey, "1", "1", maxInt),
			checks.StatusFail, "only after 60 min idle"},
		{"a negative Windows screen saver timeout is a screen saver that never starts",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 0, 0, 1, 1), userDesktopKey, "1", "1", "-600"),
			checks.StatusFail, "screen saver is off"},
		{"a macOS idleTime of 2⁶³-1 is not read as a number of seconds",
			mac("<integer>" + maxInt + "</integer>"), checks.StatusUnknown, "idleTime in " + byHostFile},
		{"a negative macOS idleTime does not fall back to the default",
			mac("<integer>-60</integer>"), checks.StatusUnknown, "not a number of seconds"},
		{"a macOS idleTime written as a decimal string is read as NSUserDefaults reads it",
			mac("<string>600</string>"), checks.StatusPass, "10 min idle"},
		{"a macOS idleTime that is not a number does not fall back to the default",
			mac("<string>soon</string>"), checks.StatusUnknown, `"soon" (string)`},
		{"sysadminctl printing a NaN delay is not understood",
			macHost(t, "sysadminctl__immediate.txt", "pmset-custom__desktop_never.txt").
				AddRun(sysadminctlArgv, host.Output{Stderr: []byte("2024-01-01 10:00:00.000 sysadminctl[1:2] screenLock delay is NaN seconds\n")}, nil),
			checks.StatusUnknown, "printed no screen lock state"},
		{"a KDE Timeout whose seconds wrap to 5 minutes is unknown",
			kde("[Daemon]\nTimeout=4611686018427387909\n"), checks.StatusUnknown, "Timeout 4611686018427387909"},
		{"a negative KDE LockGrace is unknown",
			kde("[Daemon]\nLockGrace=-600\n"), checks.StatusUnknown, "LockGrace -600"},
		{"a GNOME idle-delay outside uint32 is unknown",
			gnomeHost(t).AddFile("/etc/dconf/profile/user", []byte("user-db:user\nsystem-db:local\n")).
				AddGlob("/etc/dconf/db/local.d/*", []string{"/etc/dconf/db/local.d/00"}, nil).
				AddFile("/etc/dconf/db/local.d/00", []byte("[org/gnome/desktop/session]\nidle-delay=int64 -300\n")),
			checks.StatusUnknown, "outside uint32"},
	}
	tests = append(tests, struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
	}{"a 70 KB Timeout is unknown and its facts stay small enough to send",
		kde("[Daemon]\nTimeout=" + strings.Repeat("9", 70000) + "\n"), checks.StatusUnknown, "…"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if b, _ := json.Marshal(f); len(b) > checks.MaxFactsSize {
				t.Errorf("facts are %d bytes", len(b))
			}
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; routes %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Routes)
			}
		})
	}
}

func TestLongXDGConfigDirsIsBounded(t *testing.T) {
	var dirs []string
	for i := range 1000 {
		dirs = append(dirs, fmt.Sprintf("/tmp/d%d", i))
	}
	h := plasmaSession(linuxSession(t, "logind-session__kde_x11.txt"), strings.Join(dirs, ":"))
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	f := facts.(*Facts)
	var note string
	for _, n := range f.Notes {
		if strings.Contains(n, "XDG_CONFIG_DIRS lists more than") {
			note = n
		}
	}
	if note == "" {
		t.Errorf("no note about the cut in %q", f.Notes)
	}
	for _, s := range f.Settings {
		if s.Name == "XDG_CONFIG_DIRS" && strings.Count(s.Value, ":") >= maxConfigDirs {
			t.Errorf("XDG_CONFIG_DIRS kept %d directories", strings.Count(s.Value, ":")+1)
		}
	}
}
