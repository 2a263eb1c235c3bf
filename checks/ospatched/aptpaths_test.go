package ospatched

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// defaultHistoryLog is apt's history when nothing moves it.
const defaultHistoryLog = "/var/log/apt/history.log"

// aptConfigDump is a real Debian 12 `apt-config dump` with the lines of
// set replaced as apt-config prints a value set in apt.conf.d.
func aptConfigDump(t *testing.T, set map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "osautoupdate", "testdata", "linux", "apt-config__debian12_default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		found := false
		for _, l := range bytes.Split(b, []byte("\n")) {
			if bytes.HasPrefix(l, []byte(k+` "`)) {
				b, found = bytes.Replace(b, l, []byte(k+` "`+v+`";`), 1), true
				break
			}
		}
		if !found {
			t.Fatalf("the dump has no %s", k)
		}
	}
	return b
}

func TestAptConfigurationMovesListsAndHistory(t *testing.T) {
	// No update-success-stamp: the lists' Release files give the refresh.
	base := func(dump []byte) *host.Fake {
		return host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", []byte("ID=debian\nVERSION_ID=\"12\"\n")).
			AddStat(aptGetPath, file(now), nil).
			AddRun(aptPolicyArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-cache-policy__debian12_security.txt")}, nil).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__ubuntu2204_nonroot.txt")}, nil).
			AddRun([]string{aptConfigPath, "dump"}, host.Output{Stdout: dump}, nil)
	}
	release := "deb.debian.org_debian_dists_bookworm_InRelease"
	// The default places hold a stale machine's traces: reading them
	// instead of the moved ones changes the verdict.
	stale := func(f *host.Fake) *host.Fake {
		return f.AddGlob("/var/lib/apt/lists/*Release", []string{"/var/lib/apt/lists/" + release}, nil).
			AddStat("/var/lib/apt/lists/"+release, file(now.Add(-60*24*time.Hour)), nil).
			AddFile(defaultHistoryLog, history("2025-01-01  06:10:01"))
	}
	tests := []struct {
		name          string
		h             *host.Fake
		want          checks.Status
		wantInSummary string
		wantSources   []string
	}{
		{"Debian's defaults read /var/lib/apt/lists and /var/log/apt/history.log",
			stale(base(aptConfigDump(t, nil))),
			checks.StatusFail, "last refreshed 60 days ago", []string{"/var/lib/apt/lists (newest Release file)", defaultHistoryLog}},
		{"Dir::State::lists and Dir::Log set in apt.conf.d are where the lists and history are read",
			stale(base(aptConfigDump(t, map[string]string{"Dir::State::lists": "/srv/apt/lists/", "Dir::Log": "/srv/log/apt"}))).
				AddGlob("/srv/apt/lists/*Release", []string{"/srv/apt/lists/" + release}, nil).
				AddStat("/srv/apt/lists/"+release, file(now.Add(-time.Hour)), nil).
				AddFile("/srv/log/apt/history.log", history("2026-11-21  06:10:01")),
			checks.StatusPass, "2 security updates pending for 2 days", []string{"/srv/apt/lists (newest Release file)", "/srv/log/apt/history.log"}},
		{"without apt-config, Dir::State::lists and Dir::Log set in an apt.conf.d part are where the lists and history are read",
			stale(base(nil)).
				AddRun([]string{aptConfigPath, "dump"}, host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/bin/apt-config: context deadline exceeded"))).
				AddDir("/etc/apt/apt.conf.d", []string{"60local"}, nil).
				AddFile("/etc/apt/apt.conf.d/60local", []byte("Dir::State::lists \"/srv/apt/lists/\";\nDir::Log \"/srv/log/apt\";\n")).
				AddGlob("/srv/apt/lists/*Release", []string{"/srv/apt/lists/" + release}, nil).
				AddStat("/srv/apt/lists/"+release, file(now.Add(-time.Hour)), nil).
				AddFile("/srv/log/apt/history.log", history("2026-11-21  06:10:01")),
			checks.StatusPass, "2 security updates pending for 2 days", []string{"/srv/apt/lists (newest Release file)", "/srv/log/apt/history.log"}},
		{"without apt-config, a part moving Dir::Etc::main to a file that moves the history is followed",
			stale(base(nil)).
				AddRun([]string{aptConfigPath, "dump"}, host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/bin/apt-config: context deadline exceeded"))).
				AddDir("/etc/apt/apt.conf.d", []string{"00site"}, nil).
				AddFile("/etc/apt/apt.conf.d/00site", []byte(`Dir::Etc::main "/srv/apt.conf";`)).
				AddFile("/srv/apt.conf", []byte(`Dir::Log::History "/srv/history.log";`)).
				AddFile("/srv/history.log", history("2026-11-21  06:10:01")),
			checks.StatusFail, "last refreshed 60 days ago", []string{"/var/lib/apt/lists (newest Release file)", "/srv/history.log"}},
		{"Dir::State moves the lists under it; a moved history that is missing is not the default's",
			stale(base(aptConfigDump(t, map[string]string{"Dir::State": "/srv/apt-state", "Dir::Log::History": "/srv/history.log"}))).
				AddGlob("/srv/apt-state/lists/*Release", []string{"/srv/apt-state/lists/" + release}, nil).
				AddStat("/srv/apt-state/lists/"+release, file(now.Add(-time.Hour)), nil),
			checks.StatusUnknown, "", []string{"/srv/apt-state/lists (newest Release file)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: replayThresholds(), Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSummary, b)
			var f Facts
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			var sources []string
			for _, s := range []*Stamp{f.LastRefresh, f.LastPatch} {
				if s != nil {
					sources = append(sources, s.Source)
				}
			}
			if diff := cmp.Diff(tc.wantSources, sources); diff != "" {
				t.Errorf("sources judged (-want +got):\n%s", diff)
			}
		})
	}
}
