package ospatched

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// dpkgCfgWithLog is the real Debian 12 dpkg.cfg with its `log` line
// replaced by line ("" removes it).
func dpkgCfgWithLog(t *testing.T, line string) []byte {
	t.Helper()
	b := checktest.Testdata(t, "linux", "dpkg.cfg__debian12_default.txt")
	const def = "log /var/log/dpkg.log"
	if !bytes.Contains(b, []byte(def)) {
		t.Fatalf("the sample has no %q", def)
	}
	return bytes.Replace(b, []byte(def), []byte(line), 1)
}

func TestDpkgLogIsWhereDpkgsConfigurationSays(t *testing.T) {
	// apt keeps no history here, so dpkg's log dates the last patch. The
	// default place holds the real log of an upgrade 516 days old: reading
	// it instead of the moved log changes the verdict.
	recent := []byte("2026-11-21 06:10:01 upgrade libssl3:amd64 3.0.15-1~deb12u1 3.0.17-1~deb12u2\n")
	stale := checktest.Testdata(t, "linux", "dpkg.log__debian12_2025-06-24_upgrade.txt")
	base := func(cfg []byte) *host.Fake {
		h := debian(t, 0).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__ubuntu2204_nonroot.txt")}, nil).
			AddFile(dpkgLog, stale).
			AddDir(dpkgCfgDir, []string{"docker-apt-speedup"}, nil).
			AddFile(dpkgCfgDir+"/docker-apt-speedup", checktest.Testdata(t, "linux", "dpkg.cfg.d__docker-apt-speedup.txt"))
		if cfg != nil {
			h.AddFile(dpkgCfgFile, cfg)
		}
		return h
	}
	tests := []struct {
		name          string
		h             *host.Fake
		want          checks.Status
		wantInSummary string
		wantSource    string
		wantNote      string
	}{
		{"Debian's own dpkg.cfg names the default log, and the facts say where the path came from",
			base(checktest.Testdata(t, "linux", "dpkg.cfg__debian12_default.txt")),
			checks.StatusFail, "2 security updates pending for 516 days",
			"/var/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg), newest upgrade of any package", ""},
		{"without any log option dpkg's default is read and the facts say it is the default",
			base(dpkgCfgWithLog(t, "")),
			checks.StatusFail, "2 security updates pending for 516 days",
			"/var/log/dpkg.log (dpkg's default log), newest upgrade of any package", ""},
		{"log moved in dpkg.cfg is where the last upgrade is read",
			base(dpkgCfgWithLog(t, "log /srv/log/dpkg.log")).AddFile("/srv/log/dpkg.log", recent),
			checks.StatusPass, "2 security updates pending for 2 days",
			"/srv/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg), newest upgrade of any package", ""},
		{"log moved by a drop-in, with = and quotes, is read when dpkg.cfg does not set it again",
			base(dpkgCfgWithLog(t, "")).
				AddDir(dpkgCfgDir, []string{"50-log", "docker-apt-speedup", "old.dpkg-old"}, nil).
				AddFile(dpkgCfgDir+"/50-log", []byte("log = \"/srv/log/dpkg.log\"\n")).
				AddFile(dpkgCfgDir+"/old.dpkg-old", []byte("log /var/log/dpkg.log\n")).
				AddFile("/srv/log/dpkg.log", recent),
			checks.StatusPass, "2 security updates pending for 2 days",
			"/srv/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg.d/50-log), newest upgrade of any package", ""},
		{"dpkg.cfg is read after the drop-ins, so its log wins",
			base(checktest.Testdata(t, "linux", "dpkg.cfg__debian12_default.txt")).
				AddDir(dpkgCfgDir, []string{"50-log"}, nil).
				AddFile(dpkgCfgDir+"/50-log", []byte("log /srv/log/dpkg.log\n")).
				AddFile("/srv/log/dpkg.log", recent),
			checks.StatusFail, "2 security updates pending for 516 days",
			"/var/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg), newest upgrade of any package", ""},
		{"a moved log that does not exist is no record, not the default's",
			base(dpkgCfgWithLog(t, "log /srv/log/dpkg.log")),
			checks.StatusUnknown, "",
			"", "no apt history and no dpkg log: /srv/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg) does not exist"},
		{"an unreadable drop-in directory is said, since it may have moved the log",
			base(checktest.Testdata(t, "linux", "dpkg.cfg__debian12_default.txt")).
				AddDir(dpkgCfgDir, nil, errors.New("permission denied")),
			checks.StatusFail, "2 security updates pending for 516 days",
			"/var/log/dpkg.log (log set in /etc/dpkg/dpkg.cfg), newest upgrade of any package", "list /etc/dpkg/dpkg.cfg.d: permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: replayThresholds(), Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSummary, b)
			var f Facts
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			var source string
			if f.LastPatch != nil {
				source = f.LastPatch.Source
			}
			if diff := cmp.Diff(tc.wantSource, source); diff != "" {
				t.Errorf("last patch source (-want +got):\n%s", diff)
			}
			if tc.wantNote != "" && !strings.Contains(strings.Join(f.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes %q lack %q", f.Notes, tc.wantNote)
			}
		})
	}
}

func TestDpkgCfgLogLine(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{"a space separates the value", "log /a\n", "/a", true},
		{"= separates the value", "log=/a\n", "/a", true},
		{"spaces around = are skipped", "log = /a\n", "/a", true},
		{"single quotes are removed", "log '/a b'\n", "/a b", true},
		{"the last log option wins", "log /a\nlog /b\n", "/b", true},
		{"a comment line is not an option", "# log /a\n", "", false},
		{"an indented line is no option dpkg accepts", " log /a\n", "", false},
		{"an option named like log is another option", "logfile /a\nno-debsig\n", "", false},
		{"log without a value sets nothing", "log\n", "", false},
		{"CRLF line ends are trimmed", "log /a\r\n", "/a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := dpkgCfgLog([]byte(tc.in))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("dpkgCfgLog(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
