package ospatched

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

// The targets below feed what a package manager printed or logged to
// each parser. For any input the parser must not panic, must not return
// more entries than the input has lines, and must not return a date
// before the source could have written it; the seeds are the recorded
// samples.

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Thresholds: replayThresholds(), Now: now})
}

func FuzzParseAptSimulation(f *testing.F) {
	checktest.AddSeeds(f, "linux", "apt-get__")
	checktest.AddSeeds(f, "linux", "apt-check__")
	f.Fuzz(func(t *testing.T, b []byte) {
		p := parseAptSimulation(b)
		if p.total > bytes.Count(b, []byte("Inst ")) || len(p.security) > p.total {
			t.Fatalf("%d upgrades, %d security from %d Inst lines", p.total, len(p.security), bytes.Count(b, []byte("Inst ")))
		}
		if total, sec, ok := parseAptCheck(b); ok && (total < 0 || sec < 0) {
			t.Fatalf("counts %d;%d", total, sec)
		}
	})
}

func FuzzCollectApt(f *testing.F) {
	checktest.AddSeeds(f, "linux", "apt-get__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := debian(t, time.Hour).AddRun(aptArgv, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzLastAptUpgrade(f *testing.F) {
	checktest.AddSeeds(f, "linux", "history.log__")
	f.Add([]byte("2024-05-01 10:00:00 upgrade libssl3:amd64 3.0.11-1~deb12u2 3.0.15-1~deb12u1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, last := range []func([]byte) (time.Time, bool){lastAptHistoryUpgrade, lastDpkgUpgrade, lastZyppPatch} {
			if tm, ok := last(b); ok && tm.IsZero() {
				t.Fatal("ok without a time")
			}
		}
	})
}

func FuzzParseDnfSecurity(f *testing.F) {
	checktest.AddSeeds(f, "linux", "dnf")
	f.Fuzz(func(t *testing.T, b []byte) {
		us := parseDnfSecurity(b)
		if len(us) > checktest.LineCount(b) {
			t.Fatalf("%d updates from %d lines", len(us), checktest.LineCount(b))
		}
		for _, u := range us {
			if u.Name == "" {
				t.Fatalf("update %+v without a name", u)
			}
		}
	})
}

func FuzzParseSoftwareUpdateList(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "softwareupdate__")
	f.Fuzz(func(t *testing.T, b []byte) {
		us := parseSoftwareUpdateList(b)
		if n := checktest.LineCount(decodeText(b)); len(us) > n {
			t.Fatalf("%d updates from %d lines", len(us), n)
		}
		for _, u := range us {
			_ = isMacSecurityUpdate(u, "15")
		}
		if tm, _, ok := lastMacInstall(b); ok && tm.IsZero() {
			t.Fatal("ok without a time")
		}
	})
}

func FuzzCollectSoftwareUpdate(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "softwareupdate__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("darwin", "arm64").
			AddRun([]string{"/usr/bin/sw_vers", "-productVersion"}, host.Output{Stdout: []byte("15.7.1\n")}, nil).
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzParseWUA(f *testing.F) {
	checktest.AddSeeds(f, "windows", "powershell-wua__")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, sec, total, err := parseWUA(b)
		if err != nil {
			return
		}
		if len(sec) > total {
			t.Fatalf("%d security updates of %d", len(sec), total)
		}
		for _, u := range sec {
			if u.Released != nil && u.Released.Year() < 1990 {
				t.Fatalf("released %s", u.Released)
			}
		}
	})
}

func FuzzCollectWUA(f *testing.F) {
	checktest.AddSeeds(f, "windows", "powershell-wua__")
	ps := `C:\WINDOWS\System32\WindowsPowerShell\v1.0\powershell.exe`
	psArgv := []string{ps, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", psEncoded(wuaScript)}
	f.Fuzz(func(t *testing.T, b []byte) {
		reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
		h := host.NewFake("windows", "amd64").
			AddRegistry(osdata.WindowsCurrentVersion, "CurrentBuildNumber", reg("26100"), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "UBR", host.RegistryValue{Type: "REG_DWORD", Integer: 7171}, nil).
			AddRegistry(osdata.WindowsCurrentVersion, "EditionID", reg("Professional"), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "SystemRoot", reg(`C:\WINDOWS`), nil).
			AddRun(psArgv, host.Output{Stdout: b}, nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzParseInstalledOn(f *testing.F) {
	for _, s := range []string{"3/12/2024", "20241008", "08.10.2024", "01c9c5ce4b48e5fd", "10/8/2024 12:00:00 AM", "ffffffffffffffff", "7fffffffffffffff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := parseInstalledOn(s)
		if !ok {
			return
		}
		// A hexadecimal FILETIME must decode to exactly its instant.
		s = strings.TrimSpace(s)
		if ft, err := strconv.ParseUint(s, 16, 64); err == nil && len(s) == 16 {
			const epochDiff = 116444736000000000
			if want := int64((ft - epochDiff) / 1e7); ft > epochDiff && tm.Unix() != want {
				t.Fatalf("FILETIME %s decoded as %s (Unix %d, want %d)", s, tm, tm.Unix(), want)
			}
		}
	})
}

func FuzzParseZypperPatches(f *testing.F) {
	checktest.AddSeeds(f, "linux", "zypper-")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseZypperPatches(b)
		if err != nil {
			return
		}
		if len(p.security) > p.needed {
			t.Fatalf("%d security patches of %d needed", len(p.security), p.needed)
		}
	})
}

func FuzzCollectZypper(f *testing.F) {
	checktest.AddSeeds(f, "linux", "zypper-")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := suse("opensuse-leap", "15.6").AddRun(zypperArgv, host.Output{Stdout: b}, nil)
		r := collectEval(t, h)
		checktest.CheckResult(t, r)
		if _, err := parseZypperPatches(b); err != nil && r.Status == checks.StatusPass {
			t.Fatalf("an unreadable listing passes: %s", r.Summary)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	checktest.AddSeeds(f, "windows", "")
	f.Fuzz(func(t *testing.T, b []byte) {
		out := decodeText(b)
		utf16 := bytes.HasPrefix(b, []byte{0xff, 0xfe}) || len(b) >= 2 && b[1] == 0 && b[0] != 0
		if utf16 && !utf8.Valid(out) {
			t.Fatalf("UTF-16 input decoded to invalid UTF-8 %q", out)
		}
		if len(out) > 3*len(b) {
			t.Fatalf("%d bytes from %d", len(out), len(b))
		}
	})
}
