package osautoupdate

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed configuration files and tool output to each
// parser. For any input the parser must not panic, must keep only the
// keys it is meant to, and must not return more entries than the input
// has lines; the seeds are the recorded samples.

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Thresholds: &Thresholds{Require: LevelDownload}, Now: now})
}

func FuzzParseAptConf(f *testing.F) {
	checktest.AddSeeds(f, "linux", "20auto-upgrades")
	checktest.AddSeeds(f, "linux", "50unattended-upgrades")
	checktest.AddSeeds(f, "linux", "99local")
	checktest.AddSeeds(f, "linux", "apt-config__")
	f.Fuzz(func(t *testing.T, b []byte) {
		conf := map[string]string{}
		parseAptConf(b, conf)
		dump := parseAptConfigDump(b)
		quotes := bytes.Count(b, []byte(`"`))
		for _, m := range []map[string]string{conf, dump} {
			if 2*len(m) > quotes {
				t.Fatalf("%d keys from %d quotes", len(m), quotes)
			}
			for k, v := range m {
				if !keptAptKey(k) {
					t.Fatalf("key %q kept", k)
				}
				_, _ = periodicOn(v)
			}
		}
		// Reading the same file again changes no setting: later
		// assignments win the same way (lists grow, as in apt).
		again := maps.Clone(conf)
		parseAptConf(b, again)
		maps.DeleteFunc(conf, func(k, _ string) bool { return strings.HasSuffix(k, "::") })
		maps.DeleteFunc(again, func(k, _ string) bool { return strings.HasSuffix(k, "::") })
		if !maps.Equal(conf, again) {
			t.Fatalf("a second read changed %v to %v", conf, again)
		}
	})
}

func FuzzCollectAptConfigDump(f *testing.F) {
	checktest.AddSeeds(f, "linux", "apt-config__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := apt().AddRun([]string{aptConfigPath, "dump"}, host.Output{Stdout: b}, nil).AddStat(unattendedPath, present, nil)
		r := collectEval(t, h)
		checktest.CheckResult(t, r)
		// Passing the download level needs the dump to switch on
		// downloading or unattended upgrades.
		conf := parseAptConfigDump(b)
		download, _ := periodicOn(conf[keyDownload])
		unattended, _ := periodicOn(conf[keyUnattended])
		if r.Status == checks.StatusPass && !download && !unattended {
			t.Fatalf("passes with neither %s nor %s on: %s", keyDownload, keyUnattended, r.Summary)
		}
	})
}

func FuzzParseINI(f *testing.F) {
	checktest.AddSeeds(f, "linux", "automatic.conf__")
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		for _, sec := range parseINI(b) {
			for k := range sec {
				if k != strings.ToLower(strings.TrimSpace(k)) {
					t.Fatalf("key %q not normalised", k)
				}
				n++
			}
		}
		if n > checktest.LineCount(b) {
			t.Fatalf("%d keys from %d lines", n, checktest.LineCount(b))
		}
	})
}

func FuzzCollectDNFAutomatic(f *testing.F) {
	checktest.AddSeeds(f, "linux", "automatic.conf__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile(dnfAutomaticConf, b).
			AddStat(timersWants+"dnf-automatic.timer", link("/usr/lib/systemd/system/dnf-automatic.timer"), nil)
		checktest.CheckResult(t, collectEval(t, h))
	})
}

func FuzzParseSysconfig(f *testing.F) {
	checktest.AddSeeds(f, "linux", "automatic_online_update__")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m := parseSysconfig(b); len(m) > checktest.LineCount(b) {
			t.Fatalf("%d keys from %d lines", len(m), checktest.LineCount(b))
		}
	})
}

func FuzzParseSchedule(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "softwareupdate-schedule__")
	f.Fuzz(func(t *testing.T, b []byte) {
		if on, ok := parseSchedule(b); on && !ok {
			t.Fatal("on without ok")
		}
	})
}

func FuzzCollectDarwinPlist(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "com.apple.SoftwareUpdate__")
	checktest.AddSeeds(f, "darwin", "managed-SoftwareUpdate__")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range []string{suPlist, suManagedPlist} {
			h := host.NewFake("darwin", "arm64").AddFile(p, b)
			checktest.CheckResult(t, collectEval(t, h))
		}
	})
}
