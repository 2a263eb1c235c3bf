package screenlock

import (
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The collector fuzz targets put the fuzzed bytes where a user or a tool
// controls them (the user's dconf database and kscreenlockerrc, the
// ByHost plist, sysadminctl, pmset and powercfg output, the user's
// registry values) and run Collect and Evaluate. Whatever the bytes, the
// result is a valid status with a reason, no route holds a negative
// number, and a pass is backed by a route that really locks within the
// limit.

// checkOutcome collects from h, evaluates with the default thresholds
// and checks the invariants. A collector error is allowed (the agent
// reports it as unknown) as long as it says something.
func checkOutcome(t *testing.T, h host.Host) {
	t.Helper()
	b, f, ok := checktest.CollectFacts[Facts](t, h, Collect)
	if !ok {
		return // the agent reports the control unknown with the error
	}
	if len(b) > checks.MaxFactsSize {
		t.Fatalf("facts are %d bytes, over the %d the agent sends", len(b), checks.MaxFactsSize)
	}
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), Now: time.Unix(0, 0)})
	checktest.CheckResult(t, res)
	limit := DefaultThresholds().(*Thresholds).MaxIdleSeconds
	backed := false
	for _, r := range f.Routes {
		if r.Unknown != "" {
			continue
		}
		if r.IdleSeconds < 0 || r.GraceSeconds < 0 {
			t.Fatalf("route %+v has a negative number", r)
		}
		if r.IdleSeconds > 0 && r.PasswordRequired && r.IdleSeconds <= limit && r.GraceSeconds <= limit-r.IdleSeconds {
			backed = true
		}
	}
	if res.Status == checks.StatusPass && !backed {
		t.Fatalf("pass %q with no route within %d s: %+v", res.Summary, limit, f.Routes)
	}
}

func FuzzCollectGNOME(f *testing.F) {
	td := func(name string) []byte { return checktest.Testdata(f, "linux", name) }
	seat, session, passwd := td("logind-seat__seat0_active.txt"), td("logind-session__gnome_wayland.txt"), td("passwd__alice.txt")
	userDBs := checktest.SeedFiles(f, "linux", "dconf-user")
	keyfiles := checktest.SeedFiles(f, "linux", "dconf-keyfile")
	for i, db := range userDBs {
		f.Add(db, keyfiles[i%len(keyfiles)])
	}
	f.Add(gvdbNested(2, 2), []byte("[org/gnome/desktop/session]\nidle-delay=int32 -5\n[org/gnome/desktop/screensaver]\nlock-delay=uint32 9223372036854775807\n"))
	const keyfile = "/etc/dconf/db/local.d/00-screensaver"
	f.Fuzz(func(t *testing.T, userDB, systemKeyfile []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile("/run/systemd/seats/seat0", seat).
			AddFile("/run/systemd/sessions/2", session).
			AddFile("/etc/passwd", passwd).
			AddFile(aliceHome+"/.config/dconf/user", userDB).
			AddFile("/etc/dconf/profile/user", []byte("user-db:user\nsystem-db:local\n")).
			AddGlob("/etc/dconf/db/local.d/*", []string{keyfile}, nil).
			AddFile(keyfile, systemKeyfile)
		checkOutcome(t, h)
	})
}

func FuzzCollectKDE(f *testing.F) {
	td := func(name string) []byte { return checktest.Testdata(f, "linux", name) }
	seat, session, passwd := td("logind-seat__seat0_active.txt"), td("logind-session__kde_x11.txt"), td("passwd__alice.txt")
	rcs := checktest.SeedFiles(f, "linux", "kscreenlockerrc")
	for i, rc := range rcs {
		f.Add(rc, rcs[(i+1)%len(rcs)])
	}
	f.Add([]byte("[Daemon]\nTimeout=4611686018427387909\n"), []byte{})
	f.Add([]byte("[Daemon]\nLockGrace=-600\nTimeout=1\n"), []byte("[$i]\n"))
	f.Add([]byte("[Daemon]\nTimeout="+strings.Repeat("9", 70000)+"\n"), []byte{})
	f.Fuzz(func(t *testing.T, userRC, systemRC []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile("/run/systemd/seats/seat0", seat).
			AddFile("/run/systemd/sessions/2", session).
			AddFile("/etc/passwd", passwd).
			AddFile(aliceHome+"/.config/kscreenlockerrc", userRC).
			AddFile("/etc/xdg/kscreenlockerrc", systemRC)
		checkOutcome(t, h)
	})
}

func FuzzCollectDarwin(f *testing.F) {
	byHost := checktest.Testdata(f, "darwin", "byhost-screensaver__idle_600.plist")
	sysadminctl := checktest.SeedFiles(f, "darwin", "sysadminctl")
	pmset := checktest.SeedFiles(f, "darwin", "pmset-custom")
	for i, s := range sysadminctl {
		f.Add(byHost, s, pmset[i%len(pmset)])
	}
	intPlist := func(v string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>idleTime</key>` + v + `</dict></plist>`)
	}
	f.Add(intPlist("<integer>9223372036854775807</integer>"), []byte("screenLock delay is 300 seconds"), pmset[0])
	f.Add(intPlist("<real>nan</real>"), []byte("screenLock delay is immediate"), pmset[0])
	f.Add(intPlist("<integer>-60</integer>"), []byte("screenLock delay is immediate"), pmset[0])
	f.Add(intPlist("<string>600</string>"), []byte("screenLock delay is immediate"), []byte("AC Power:\n displaysleep 0\n"))
	dscl := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>dsAttrTypeStandard:NFSHomeDirectory</key><array><string>/Users/alice</string></array></dict></plist>`)
	f.Fuzz(func(t *testing.T, byHostPlist, sysadminctlOut, pmsetOut []byte) {
		h := host.NewFake("darwin", "arm64").
			AddRun(statArgv, host.Output{Stdout: []byte("alice 501\n")}, nil).
			AddRun(dsclArgv, host.Output{Stdout: dscl}, nil).
			AddRun(sysadminctlArgv, host.Output{Stderr: sysadminctlOut}, nil).
			AddRun(pmsetArgv, host.Output{Stdout: pmsetOut}, nil).
			AddGlob(byHostGlob, []string{byHostFile}, nil).
			AddFile(byHostFile, byHostPlist)
		checkOutcome(t, h)
	})
}

func FuzzCollectWindows(f *testing.F) {
	powercfg := checktest.SeedFiles(f, "windows", "powercfg")
	for i, p := range powercfg {
		f.Add(p, powercfg[(i+1)%len(powercfg)], "600", "0")
	}
	f.Add(powercfg[0], powercfg[1], "9223372036854775807", "9223372036854775807")
	f.Add(powercfg[0], powercfg[1], "-600", "-1")
	f.Fuzz(func(t *testing.T, sleepOut, lockOut []byte, timeout, delayLock string) {
		h := withConsoleUser(windowsHost()).
			AddRun([]string{powercfgPath, "/qh", "SCHEME_CURRENT", subSleep, standbyIdle}, host.Output{Stdout: sleepOut}, nil).
			AddRun([]string{powercfgPath, "/qh", "SCHEME_CURRENT", subNone, consoleLock}, host.Output{Stdout: lockOut}, nil).
			AddRun([]string{powercfgPath, "/qh", "SCHEME_CURRENT", subVideo, videoIdle}, host.Output{Stdout: sleepOut}, nil).
			AddRegistry(powerKey, "CsEnabled", dword(1), nil).
			AddRegistry(`HKU\`+aliceSID+`\`+userDesktopKey, delayLockValue, sz(delayLock), nil)
		withScreenSaver(h, userDesktopKey, "1", "1", timeout)
		checkOutcome(t, h)
	})
}
