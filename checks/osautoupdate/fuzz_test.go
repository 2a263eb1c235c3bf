package osautoupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The targets below feed configuration files and tool output to each
// parser. For any input the parser must not panic, must keep only the
// keys it is meant to, and must not return more entries than the input
// has lines; the seeds are the recorded samples.

// addSeeds adds every testdata/<goos>/<prefix>* file as a seed.
func addSeeds(f *testing.F, goos, prefix string) {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", goos, prefix+"*"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds for testdata/%s/%s*: %v", goos, prefix, err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func lineCount(b []byte) int { return bytes.Count(b, []byte("\n")) + 1 }

// checkResult asserts what holds for any evaluation: a known status, a
// summary, and a reason after "could not be determined" for unknown.
func checkResult(t *testing.T, r checks.Result) {
	t.Helper()
	switch r.Status {
	case checks.StatusPass, checks.StatusFail, checks.StatusUnknown, checks.StatusNotApplicable:
	default:
		t.Fatalf("status %q is not a status", r.Status)
	}
	if strings.TrimSpace(r.Summary) == "" {
		t.Fatalf("%s with an empty summary", r.Status)
	}
	if r.Status == checks.StatusUnknown && strings.TrimSpace(strings.TrimPrefix(r.Summary, "could not be determined:")) == "" {
		t.Fatalf("unknown without a reason: %q", r.Summary)
	}
}

func collectEval(t *testing.T, h host.Host) checks.Result {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Unknown(err.Error())
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: &Thresholds{Require: LevelDownload}, Now: now})
}

func FuzzParseAptConf(f *testing.F) {
	addSeeds(f, "linux", "20auto-upgrades")
	addSeeds(f, "linux", "50unattended-upgrades")
	addSeeds(f, "linux", "99local")
	addSeeds(f, "linux", "apt-config__")
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
				if !strings.HasPrefix(k, "APT::Periodic::") {
					t.Fatalf("key %q kept", k)
				}
				_, _ = periodicOn(v)
			}
		}
		// Reading the same file again changes nothing: later
		// assignments win the same way.
		again := maps.Clone(conf)
		parseAptConf(b, again)
		if !maps.Equal(conf, again) {
			t.Fatalf("a second read changed %v to %v", conf, again)
		}
	})
}

func FuzzCollectAptConfigDump(f *testing.F) {
	addSeeds(f, "linux", "apt-config__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := apt().AddRun([]string{aptConfigPath, "dump"}, host.Output{Stdout: b}, nil).AddStat(unattendedPath, present, nil)
		r := collectEval(t, h)
		checkResult(t, r)
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
	addSeeds(f, "linux", "automatic.conf__")
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
		if n > lineCount(b) {
			t.Fatalf("%d keys from %d lines", n, lineCount(b))
		}
	})
}

func FuzzCollectDNFAutomatic(f *testing.F) {
	addSeeds(f, "linux", "automatic.conf__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile(dnfAutomaticConf, b).
			AddStat(timersWants+"dnf-automatic.timer", link("/usr/lib/systemd/system/dnf-automatic.timer"), nil)
		checkResult(t, collectEval(t, h))
	})
}

func FuzzParseSysconfig(f *testing.F) {
	addSeeds(f, "linux", "automatic_online_update__")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m := parseSysconfig(b); len(m) > lineCount(b) {
			t.Fatalf("%d keys from %d lines", len(m), lineCount(b))
		}
	})
}

func FuzzParseSchedule(f *testing.F) {
	addSeeds(f, "darwin", "softwareupdate-schedule__")
	f.Fuzz(func(t *testing.T, b []byte) {
		if on, ok := parseSchedule(b); on && !ok {
			t.Fatal("on without ok")
		}
	})
}

func FuzzCollectDarwinPlist(f *testing.F) {
	addSeeds(f, "darwin", "com.apple.SoftwareUpdate__")
	addSeeds(f, "darwin", "managed-SoftwareUpdate__")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range []string{suPlist, suManagedPlist} {
			h := host.NewFake("darwin", "arm64").AddFile(p, b)
			checkResult(t, collectEval(t, h))
		}
	})
}
