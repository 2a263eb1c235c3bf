package ospatched

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// replayThresholds are the defaults with the patch baselines of the time
// the replayed samples were recorded (2025 builds and versions, their
// dates moved to 2026), so these tests keep judging the pending-update
// logic when releases.yaml moves its baselines on. The embedded baselines
// are checked in TestEmbeddedBaselineApplies and in checks/osdata.
func replayThresholds() *Thresholds {
	th := DefaultThresholds().(*Thresholds)
	th.ReplaceBaselines = true
	th.Baselines = osdata.Baselines{
		{Platform: "windows", Version: "26100", Minimum: "26100.6584", Released: osdata.Date{Time: time.Date(2025, 9, 9, 0, 0, 0, 0, time.UTC)}, Name: "September 2025 security update (KB5065426)", Source: "https://support.microsoft.com/en-us/help/5045988"},
		{Platform: "macos", Version: "14", Minimum: "14.8", Released: osdata.Date{Time: time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)}, Name: "macOS Sonoma 14.8", Source: "https://support.apple.com/en-us/100100"},
		{Platform: "macos", Version: "15", Minimum: "15.7", Released: osdata.Date{Time: time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)}, Name: "macOS Sequoia 15.7", Source: "https://support.apple.com/en-us/100100"},
		{Platform: "macos", Version: "26", Minimum: "26.0", Released: osdata.Date{Time: time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)}, Name: "macOS Tahoe 26", Source: "https://support.apple.com/en-us/100100"},
	}
	return th
}

func file(at time.Time) host.FileInfo { return host.FileInfo{Name: "f", Mode: 0o644, ModTime: at} }

var aptArgv = []string{aptGetPath, "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"}

// debian is a Debian 12 host whose apt lists were refreshed refreshed ago.
func debian(t *testing.T, refreshed time.Duration) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile("/etc/os-release", []byte("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")).
		AddStat(aptGetPath, file(now), nil).
		AddStat(updateStamp, file(now.Add(-refreshed)), nil).
		AddRun(aptPolicyArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-cache-policy__debian12_security.txt")}, nil)
}

var aptPolicyArgv = []string{aptCachePath, "policy"}

// fedora is a Fedora 43 host whose dnf lists no advisory, with repo as
// /etc/yum.repos.d/fedora-updates.repo (none when nil).
func fedora(t *testing.T, repo []byte) *host.Fake {
	f := host.NewFake("linux", "amd64").
		AddFile("/etc/os-release", []byte("ID=fedora\nVERSION_ID=43\n")).
		AddStat(dnfPath, file(now), nil).
		AddRun([]string{dnfPath, "-q", "updateinfo", "list", "--security"}, host.Output{}, nil)
	if repo != nil {
		f.AddGlob("/etc/yum.repos.d/*.repo", []string{"/etc/yum.repos.d/fedora-updates.repo"}, nil).
			AddFile("/etc/yum.repos.d/fedora-updates.repo", repo)
	}
	return f
}

func history(at string) []byte {
	return []byte("\nStart-Date: " + at + "\nCommandline: /usr/bin/unattended-upgrade\nUpgrade: libssl3:amd64 (3.0.15-1~deb12u1, 3.0.17-1~deb12u2)\nEnd-Date: " + at + "\n")
}

func TestCollectAndEvaluate(t *testing.T) {
	winReg := func(f *host.Fake, build, ubr string) *host.Fake {
		reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
		return f.AddRegistry(osdata.WindowsCurrentVersion, "CurrentBuildNumber", reg(build), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "UBR", host.RegistryValue{Type: "REG_DWORD", Integer: mustUint(ubr)}, nil).
			AddRegistry(osdata.WindowsCurrentVersion, "EditionID", reg("Professional"), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "SystemRoot", reg(`C:\WINDOWS`), nil)
	}
	ps := `C:\WINDOWS\System32\WindowsPowerShell\v1.0\powershell.exe`
	psArgv := []string{ps, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", psEncoded(wuaScript)}
	qfe := func(f *host.Fake, installedOn string) *host.Fake {
		return f.AddWMI(`root\cimv2`, qfeQuery, []map[string]any{{"HotFixID": "KB5065426", "InstalledOn": installedOn}, {"HotFixID": "KB5054156", "InstalledOn": "3/12/2025"}}, nil)
	}
	mac := func(version string) *host.Fake {
		return host.NewFake("darwin", "arm64").AddRun([]string{"/usr/bin/sw_vers", "-productVersion"}, host.Output{Stdout: []byte(version + "\n")}, nil)
	}
	tests := []struct {
		name      string
		h         *host.Fake
		want      checks.Status
		wantInSum string
	}{
		// Linux, apt.
		{"real Debian 12 output with 74 security updates and no full upgrade since 2025 fails", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__debian12_security_pending.txt")}, nil).
			AddFile(defaultHistoryLog, checktest.Testdata(t, "linux", "history.log__debian12_no_recent_upgrade.txt")),
			checks.StatusFail, "74 security updates pending for 516 days"},
		{"an up-to-date Debian passes", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__up_to_date.txt")}, nil),
			checks.StatusPass, "no security updates pending"},
		{"an up-to-date answer from sources without a security suite is unknown, not a pass", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__up_to_date.txt")}, nil).
			AddRun(aptPolicyArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-cache-policy__debian12_no_security.txt")}, nil),
			checks.StatusUnknown, "no security suite (apt-cache policy lists oldstable-updates, oldstable)"},
		{"an up-to-date answer with no package lists at all is unknown", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__up_to_date.txt")}, nil).
			AddRun(aptPolicyArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-cache-policy__no_sources.txt")}, nil),
			checks.StatusUnknown, "apt has no package lists"},
		{"an up-to-date answer whose sources cannot be listed is unknown", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__up_to_date.txt")}, nil).
			AddRun(aptPolicyArgv, host.Output{Stderr: []byte("E: Could not open file /var/lib/apt/lists/x_Packages - open (13: Permission denied)\n"), ExitCode: 100}, nil),
			checks.StatusUnknown, "apt-cache policy exited 100"},
		{"pending security updates fail even when the list is marked incomplete", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__debian12_security_pending.txt")}, nil).
			AddRun(aptPolicyArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-cache-policy__debian12_no_security.txt")}, nil).
			AddFile(defaultHistoryLog, checktest.Testdata(t, "linux", "history.log__debian12_no_recent_upgrade.txt")),
			checks.StatusFail, "74 security updates pending"},
		{"Ubuntu security updates pending two days after the last unattended upgrade pass", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__ubuntu2204_nonroot.txt")}, nil).
			AddFile(defaultHistoryLog, history("2026-11-21  06:10:01")),
			checks.StatusPass, "2 security updates pending for 2 days"},
		{"package lists not refreshed for 30 days fail", debian(t, 30*24*time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__up_to_date.txt")}, nil),
			checks.StatusFail, "last refreshed 30 days ago"},
		{"pending updates with no record of a full upgrade are unknown", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-get__ubuntu2204_nonroot.txt")}, nil).
			AddFile(defaultHistoryLog, []byte("Start-Date: 2026-11-20  10:00:00\nCommandline: apt-get install -y vim\nUpgrade: vim-common:amd64 (2:9.0.1378-2, 2:9.0.1378-2+deb12u2)\nEnd-Date: 2026-11-20  10:00:03\n")),
			checks.StatusUnknown, "how long is not known"},
		{"a refused apt-get falls back to apt-check's counts (CRLF stderr)", debian(t, time.Hour).
			AddRun(aptArgv, host.Output{Stderr: checktest.Testdata(t, "linux", "apt-get__lock_denied_stderr.txt"), ExitCode: 100}, nil).
			AddRun([]string{aptCheckPath}, host.Output{Stderr: checktest.Testdata(t, "linux", "apt-check__ubuntu_counts.txt")}, nil).
			AddFile(defaultHistoryLog, history("2026-11-01  06:10:01")),
			checks.StatusFail, "3 security updates pending for 22 days"},
		{"no package manager at all is unknown", host.NewFake("linux", "amd64").AddFile("/etc/os-release", []byte("ID=arch\n")),
			checks.StatusUnknown, "no supported package manager"},
		// Linux, dnf.
		{"dnf5 advisories issued 34 days ago fail", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", []byte("ID=fedora\nVERSION_ID=43\n")).
			AddStat(dnfPath, file(now), nil).
			AddRun([]string{dnfPath, "-q", "updateinfo", "list", "--security"}, host.Output{Stdout: checktest.Testdata(t, "linux", "dnf5__security_issued.txt")}, nil),
			checks.StatusFail, "2 security updates pending for 34 days (oldest released 2026-10-20)"},
		{"dnf with no security advisory passes", fedora(t, checktest.Testdata(t, "linux", "fedora-updates.repo__fedora32_real.txt")),
			checks.StatusPass, "no security updates pending (dnf updateinfo list --security"},
		{"dnf with Fedora's updates repository disabled is unknown, not up to date",
			fedora(t, bytes.Replace(checktest.Testdata(t, "linux", "fedora-updates.repo__fedora32_real.txt"), []byte("Updates\nfailovermethod=priority\nmetalink=https://mirrors.fedoraproject.org/metalink?repo=updates-released-f$releasever&arch=$basearch\nenabled=1"), []byte("Updates\nfailovermethod=priority\nmetalink=https://mirrors.fedoraproject.org/metalink?repo=updates-released-f$releasever&arch=$basearch\nenabled=0"), 1)),
			checks.StatusUnknown, "updates repository is not enabled"},
		{"dnf with no repository is unknown, not up to date", fedora(t, nil),
			checks.StatusUnknown, "dnf has no enabled repository"},
		{"reposdir in dnf.conf moves the repository files", fedora(t, nil).
			AddFile("/etc/dnf/dnf.conf", []byte("[main]\ngpgcheck=True\nreposdir=/srv/repos\n")).
			AddGlob("/srv/repos/*.repo", []string{"/srv/repos/fedora-updates.repo"}, nil).
			AddFile("/srv/repos/fedora-updates.repo", checktest.Testdata(t, "linux", "fedora-updates.repo__fedora32_real.txt")),
			checks.StatusPass, "no security updates pending (dnf updateinfo list --security"},
		{"dnf without metadata is unknown and quotes dnf", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", []byte("ID=rocky\nVERSION_ID=\"9.5\"\n")).
			AddStat(dnfPath, file(now), nil).
			AddRun([]string{dnfPath, "-q", "updateinfo", "list", "--security"}, host.Output{Stderr: []byte("Error: Failed to download metadata for repo 'baseos': Cannot download repomd.xml\n"), ExitCode: 1}, nil),
			checks.StatusUnknown, "exited 1: Error: Failed to download metadata"},
		// Windows.
		{"a Windows security update released 12 days ago is within the grace (UTF-16 output)", qfe(winReg(host.NewFake("windows", "amd64"), "26100", "6899"), "10/15/2026").
			AddRun(psArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "powershell-wua__security_pending_utf16.txt")}, nil),
			checks.StatusPass, "1 security updates pending for 12 days"},
		{"Windows with nothing pending passes", qfe(winReg(host.NewFake("windows", "amd64"), "26100", "7171"), "11/12/2026").
			AddRun(psArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "powershell-wua__none_pending.txt")}, nil),
			checks.StatusPass, "no security updates pending"},
		{"a Windows build below the baseline fails", winReg(host.NewFake("windows", "amd64"), "26100", "4946"),
			checks.StatusFail, "below the patch baseline 26100.6584"},
		{"Windows without the update agent falls back to baseline and a recent hotfix", qfe(winReg(host.NewFake("windows", "amd64"), "26100", "7171"), "20261112").
			AddRun(psArgv, host.Output{Stderr: []byte("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))\r\n"), ExitCode: 1}, nil),
			checks.StatusPass, "last update installed 11 days ago"},
		{"Windows with an old hotfix and no update agent is unknown", qfe(winReg(host.NewFake("windows", "amd64"), "26100", "7171"), "01d6a0b5d5c0d2a0").
			AddRun(psArgv, host.Output{}, host.Wrap(host.ErrPermission, os.ErrPermission)),
			checks.StatusUnknown, "older than 45 days"},
		// macOS.
		{"a pending Sequoia point release with no recent install is unknown until it ages", mac("15.7.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__sequoia_point_release.txt")}, nil),
			checks.StatusUnknown, "1 security updates are pending"},
		{"a real macOS 26 point release listing (KiB sizes) is pending", mac("26.5").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__tahoe_26_5_2_topgrade2123.txt")}, nil),
			checks.StatusUnknown, "1 security updates are pending"},
		{"a Mac with nothing to install passes", mac("26.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__none_stdout.txt"), Stderr: checktest.Testdata(t, "darwin", "softwareupdate__none_stderr.txt")}, nil),
			checks.StatusPass, "no security updates pending"},
		{"a scan that printed only its banner and exited 0 is unknown, not up to date", mac("26.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__none_stdout.txt")}, nil),
			checks.StatusUnknown, "did not say \"No new software available.\""},
		{"\"No new software available.\" on stdout passes too", mac("26.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: append(checktest.Testdata(t, "darwin", "softwareupdate__none_stdout.txt"), checktest.Testdata(t, "darwin", "softwareupdate__none_stderr.txt")...)}, nil),
			checks.StatusPass, "no security updates pending"},
		{"Command Line Tools and a beta are not security updates", mac("13.3.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__ventura_beta_clt_kolide.txt")}, nil),
			checks.StatusPass, "no security updates pending"},
		{"Command Line Tools beside a pending point release count only the point release", mac("12.1").
			AddRun([]string{softwareUpdatePath, "--list"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate__monterey_12_1_clt_nixinfra.txt")}, nil),
			checks.StatusUnknown, "1 security updates are pending"},
		{"a Mac below the baseline fails", mac("14.7.6"),
			checks.StatusFail, "below the patch baseline 14.8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: replayThresholds(), Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
		})
	}
}

func mustUint(s string) uint64 {
	var n uint64
	for _, c := range s {
		n = n*10 + uint64(c-'0')
	}
	return n
}

// TestEmbeddedBaselineApplies checks that the default thresholds use the
// embedded table: a build one below each embedded baseline fails and names
// it, the baseline itself passes the baseline step.
func TestEmbeddedBaselineApplies(t *testing.T) {
	for _, b := range osdata.Default().Baselines {
		t.Run(b.Platform+" "+b.Version, func(t *testing.T) {
			v, ok := osdata.ParseVersion(b.Minimum)
			if !ok || v[len(v)-1] == 0 {
				t.Skipf("no version just below %s", b.Minimum)
			}
			below := make([]string, len(v))
			for i, n := range v {
				below[i] = fmt.Sprint(n)
			}
			below[len(v)-1] = fmt.Sprint(v[len(v)-1] - 1)
			for _, tc := range []struct {
				version string
				fail    bool
			}{{strings.Join(below, "."), true}, {b.Minimum, false}} {
				id := osdata.Identity{Platform: b.Platform, Version: b.Version}
				if b.Platform == "windows" {
					_, id.Patch, _ = strings.Cut(tc.version, ".")
				} else {
					id.Version = tc.version
				}
				facts, _ := json.Marshal(Facts{OS: id, PendingError: "search not run"})
				res := Evaluate(checks.EvalInput{OS: b.Platform, Facts: facts, Thresholds: DefaultThresholds(), Now: now})
				failed := res.Status == checks.StatusFail && strings.Contains(res.Summary, "below the patch baseline "+b.Minimum)
				if failed != tc.fail {
					t.Errorf("%s: got %s %q, want below-baseline failure %v", tc.version, res.Status, res.Summary, tc.fail)
				}
			}
		})
	}
}

func TestPolicyBaselineOverride(t *testing.T) {
	facts, _ := json.Marshal(Facts{OS: osdata.Identity{Platform: "windows", Version: "26100", Patch: "7171"}, PendingError: "search not run"})
	th := DefaultThresholds().(*Thresholds)
	th.Baselines = osdata.Baselines{{Platform: "windows", Version: "26100", Minimum: "26100.7300", Released: osdata.Date{Time: now.AddDate(0, 0, -20)}, Name: "December", Source: "https://support.microsoft.com/"}}
	res := Evaluate(checks.EvalInput{OS: "windows", Facts: facts, Thresholds: th, Now: now})
	if res.Status != checks.StatusFail || !strings.Contains(res.Summary, "26100.7300") {
		t.Errorf("got %s %q", res.Status, res.Summary)
	}
}

func TestBaselineAppliesAfterTheGracePeriod(t *testing.T) {
	facts, _ := json.Marshal(Facts{OS: osdata.Identity{Platform: "windows", Version: "26100", Patch: "7171"}, PendingError: "search not run"})
	th := DefaultThresholds().(*Thresholds)
	released := now.AddDate(0, 0, -5)
	th.Baselines = osdata.Baselines{{Platform: "windows", Version: "26100", Minimum: "26100.7300", Released: osdata.Date{Time: released}, Name: "December", Source: "https://support.microsoft.com/"}}
	res := Evaluate(checks.EvalInput{OS: "windows", Facts: facts, Thresholds: th, Now: now})
	if res.Status == checks.StatusFail || res.Evidence["baseline_pending"] == nil {
		t.Errorf("5 days after its release: got %s %q, evidence %v; want the baseline pending, not a failure", res.Status, res.Summary, res.Evidence)
	}
	later := released.AddDate(0, 0, th.MaxPendingDays+1)
	if res := Evaluate(checks.EvalInput{OS: "windows", Facts: facts, Thresholds: th, Now: later}); res.Status != checks.StatusFail {
		t.Errorf("after the grace period: got %s %q, want a failure", res.Status, res.Summary)
	}
}

func TestUndecodableFactsAreUnknown(t *testing.T) {
	if res := Evaluate(checks.EvalInput{Facts: json.RawMessage(`{"pending":7}`), Now: now}); res.Status != checks.StatusUnknown {
		t.Errorf("status = %s", res.Status)
	}
}
