package screenlock

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

const (
	aliceSID = "S-1-5-21-3623811015-3361044348-30300820-1013"
	balanced = "381b4222-f694-41f0-9685-ff5bb260df2e"
	logonUI  = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`
)

func dword(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
func sz(s string) host.RegistryValue    { return host.RegistryValue{Type: "REG_SZ", String: s} }

// windowsHost is a laptop with no power or screen saver settings yet:
// add them per test.
func windowsHost() *host.Fake {
	return host.NewFake("windows", "amd64").
		AddWMI(`root\cimv2`, "SELECT Name FROM Win32_Battery", []map[string]any{{"Name": "DELL 7FHHV96"}}, nil).
		AddRegistry(powerSchemesKey, "ActivePowerScheme", sz(balanced), nil)
}

func withConsoleUser(h *host.Fake) *host.Fake {
	return h.AddWMI(`root\cimv2`, "SELECT UserName FROM Win32_ComputerSystem", []map[string]any{{"UserName": `CONTOSO\alice`}}, nil).
		AddRegistry(logonUI, "LastLoggedOnSAMUser", sz(`CONTOSO\alice`), nil).
		AddRegistry(logonUI, "LastLoggedOnUserSID", sz(aliceSID), nil)
}

func withSleep(h *host.Fake, ac, dc, lockAC, lockDC uint64) *host.Fake {
	sleepKey := powerSchemesKey + `\` + balanced + `\` + subSleep + `\` + standbyIdle
	lockKey := powerSettingsKey + `\` + subNone + `\` + consoleLock + `\DefaultPowerSchemeValues\` + balanced
	return h.AddRegistry(sleepKey, "ACSettingIndex", dword(ac), nil).
		AddRegistry(sleepKey, "DCSettingIndex", dword(dc), nil).
		AddRegistry(lockKey, "ACSettingIndex", dword(lockAC), nil).
		AddRegistry(lockKey, "DCSettingIndex", dword(lockDC), nil)
}

func withScreenSaver(h *host.Fake, key, active, secure, timeout string) *host.Fake {
	k := `HKU\` + aliceSID + `\` + key
	h.AddRegistry(k, "ScreenSaveActive", sz(active), nil).
		AddRegistry(k, "ScreenSaverIsSecure", sz(secure), nil).
		AddRegistry(k, "ScreenSaveTimeOut", sz(timeout), nil)
	if key == userDesktopKey {
		h.AddRegistry(k, "SCRNSAVE.EXE", sz(`C:\Windows\system32\scrnsave.scr`), nil)
	}
	return h
}

func TestCollectWindows(t *testing.T) {
	policyDesktop := `HKU\` + aliceSID + `\` + userPolicyKey
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"a secure 10 minute screen saver passes on mains and battery",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 1800, 900, 1, 1), userDesktopKey, "1", "1", "600"),
			checks.StatusPass, "10 min 5 s idle", 605},
		{"group policy making the screen saver insecure overrides the user and fails on mains",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 1800, 900, 1, 1), userDesktopKey, "1", "1", "600").
				AddRegistry(policyDesktop, "ScreenSaverIsSecure", sz("0"), nil),
			checks.StatusFail, "30 min idle on mains", 1800},
		{"sleep without a password on wake never locks",
			withSleep(withConsoleUser(windowsHost()), 600, 300, 0, 0),
			checks.StatusFail, "never locks", "never"},
		{"the machine inactivity limit passes without a console user",
			windowsHost().AddRegistry(machinePolicyKey, "InactivityTimeoutSecs", dword(900), nil).
				AddWMI(`root\cimv2`, "SELECT UserName FROM Win32_ComputerSystem", []map[string]any{{"UserName": nil}}, nil),
			checks.StatusPass, "15 min idle", 900},
		{"no console user and no machine limit is unknown with the reason",
			withSleep(windowsHost(), 3600, 3600, 1, 1).
				AddWMI(`root\cimv2`, "SELECT UserName FROM Win32_ComputerSystem", []map[string]any{{"UserName": nil}}, nil),
			checks.StatusUnknown, "no user is signed in", 3600},
		{"an access-denied user hive is unknown with the reason",
			withSleep(withConsoleUser(windowsHost()), 3600, 3600, 1, 1).
				AddRegistry(policyDesktop, "ScreenSaveActive", host.RegistryValue{}, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "access denied", 3600},
		{"power settings missing from the registry come from French UTF-16 powercfg",
			withConsoleUser(windowsHost()).
				AddRun([]string{powercfgPath, "/query", "SCHEME_CURRENT", subSleep, standbyIdle}, host.Output{Stdout: checktest.Testdata(t, "windows", "powercfg__standbyidle_fr_utf16.txt")}, nil).
				AddRun([]string{powercfgPath, "/query", "SCHEME_CURRENT", subNone, consoleLock}, host.Output{Stdout: checktest.Testdata(t, "windows", "powercfg__consolelock_en.txt")}, nil),
			checks.StatusPass, "10 min idle on mains", 600},
		{"the real Microsoft sample of sleep after 30 minutes on mains fails on mains",
			withPowercfg(t, withPowercfg(t, withConsoleUser(windowsHost()), "/qh", subSleep, standbyIdle, "powercfg-qh__standbyidle_msdocs.txt"),
				"/qh", subNone, consoleLock, "powercfg__consolelock_en.txt"),
			checks.StatusFail, "30 min idle on mains (sleep)", 1800},
		{"a hidden CONSOLELOCK that /query leaves out is read with /qh",
			withPowercfg(t, withPowercfg(t, withPowercfg(t, withConsoleUser(windowsHost()), "/qh", subSleep, standbyIdle, "powercfg-query__sub_sleep_ac_never.txt"),
				"/qh", subNone, consoleLock, "powercfg__consolelock_en.txt"),
				"/query", subNone, consoleLock, "powercfg-query__consolelock_hidden.txt"),
			checks.StatusFail, "never locks with a password on its own on mains", "never"},
		{"a powercfg without /qh whose /query omits the hidden CONSOLELOCK is unknown naming it",
			withPowercfg(t, withConsoleUser(windowsHost()), "/query", subNone, consoleLock, "powercfg-query__consolelock_hidden.txt").
				AddRun([]string{powercfgPath, "/qh", "SCHEME_CURRENT", subNone, consoleLock}, host.Output{ExitCode: 1, Stdout: []byte("Invalid Parameters -- try \"/?\" for help\r\n")}, nil).
				AddRun([]string{powercfgPath, "/qh", "SCHEME_CURRENT", subSleep, standbyIdle}, host.Output{Stdout: checktest.Testdata(t, "windows", "powercfg__standbyidle_en.txt")}, nil),
			checks.StatusUnknown, "does not mention " + consoleLock, "never"},
		{"a desktop without a battery ignores its battery sleep setting",
			withSleep(withConsoleUser(windowsHost()), 1200, 0, 1, 1).
				AddWMI(`root\cimv2`, "SELECT Name FROM Win32_Battery", []map[string]any{}, nil),
			checks.StatusPass, "20 min idle", 1200},
	}
	withLid := func(h *host.Fake, ac, dc uint64) *host.Fake {
		k := powerSchemesKey + `\` + balanced + `\` + subButtons + `\` + lidAction
		return h.AddRegistry(k, "ACSettingIndex", dword(ac), nil).AddRegistry(k, "DCSettingIndex", dword(dc), nil)
	}
	tests = append(tests, []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"a 10 minute screen saver fails when waking from battery sleep asks no password",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 0, 900, 1, 0), userDesktopKey, "1", "1", "600"),
			checks.StatusFail, `waking from suspend does not ask for it: the power setting "Require a password on wakeup" (CONSOLELOCK) is off on battery`, 605},
		{"closing the lid to sleep without a password fails even with idle sleep off",
			withLid(withScreenSaver(withSleep(withConsoleUser(windowsHost()), 0, 0, 0, 1), userDesktopKey, "1", "1", "600"), 1, 1),
			checks.StatusFail, "CONSOLELOCK) is off on mains", 605},
		{"no password on wake does not matter when the machine never sleeps",
			withLid(withScreenSaver(withSleep(withConsoleUser(windowsHost()), 0, 0, 0, 0), userDesktopKey, "1", "1", "600"), 0, 0),
			checks.StatusPass, "10 min 5 s idle", 605},
		{"a desktop's battery CONSOLELOCK does not matter",
			withScreenSaver(withSleep(withConsoleUser(windowsHost()), 1800, 1800, 1, 0), userDesktopKey, "1", "1", "600").
				AddWMI(`root\cimv2`, "SELECT Name FROM Win32_Battery", []map[string]any{}, nil),
			checks.StatusPass, "10 min 5 s idle", 605},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; routes %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Routes)
			}
			if diff := cmp.Diff(tc.wantLock, res.Evidence["effective_lock_seconds"]); diff != "" {
				t.Errorf("effective_lock_seconds (-want +got):\n%s", diff)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "On resume, display logon screen") {
				t.Errorf("remediation %q is not the Windows one", res.Remediation)
			}
		})
	}
}

func TestParsePowercfgQuery(t *testing.T) {
	tests := []struct {
		name           string
		file, setting  string
		wantAC, wantDC int
	}{
		{"English output with CRLF", "powercfg__standbyidle_en.txt", standbyIdle, 1800, 900},
		{"French output in UTF-16 with a BOM", "powercfg__standbyidle_fr_utf16.txt", standbyIdle, 600, 300},
		{"an index setting", "powercfg__consolelock_en.txt", consoleLock, 1, 1},
		{"Microsoft's /qh sample with its odd indentation", "powercfg-qh__standbyidle_msdocs.txt", standbyIdle, 1800, 900},
		{"a whole subgroup stops at the next setting", "powercfg-query__sub_sleep_ac_never.txt", standbyIdle, 0, 1800},
		{"the next setting's range lines are not taken for the indexes", "powercfg-q__sub_video_excerpt.txt", videoIdle, 600, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ac, dc, err := parsePowercfgQuery(checktest.Testdata(t, "windows", tc.file), tc.setting)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]int{tc.wantAC, tc.wantDC}, []int{ac, dc}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := parsePowercfgQuery(checktest.Testdata(t, "windows", "powercfg__standbyidle_en.txt"), videoIdle); err == nil {
		t.Error("output about another setting was accepted")
	}
}
