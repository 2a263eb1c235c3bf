package ospatched

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var zypperArgv = []string{zypperPath, "--non-interactive", "--xmlout", "list-patches", "--category", "security"}

// suse is an openSUSE host with zypper.
func suse(id, version string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile("/etc/os-release", []byte("NAME=\"openSUSE\"\nID=\""+id+"\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\""+version+"\"\n")).
		AddStat(zypperPath, file(now), nil)
}

func zyppHistoryLine(at, name, oldState, newState string) string {
	return at + "|patch  |" + name + "|1|noarch|repo-sle-update|important|security|" + oldState + "|" + newState + "|\n"
}

func TestZypperCollectAndEvaluate(t *testing.T) {
	leap := func() *host.Fake {
		return suse("opensuse-leap", "15.6").
			AddRun(zypperArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "zypper-lu-patch__leap15.6_blocked_mondoo.xml")}, nil)
	}
	tests := []struct {
		name      string
		h         *host.Fake
		want      checks.Status
		wantInSum string
	}{
		{"a real Leap 15.6 listing with 48 security patches held behind a package manager patch fails", leap().
			AddFile(zyppHistory, []byte(zyppHistoryLine("2026-09-01 03:10:44", "openSUSE-SLE-15.6-2026-1001", "needed", "applied"))),
			checks.StatusFail, "48 security updates pending for 83 days (no full update since 2026-09-01)"},
		{"the same listing with a history of side-effect patches only is unknown", leap().
			AddFile(zyppHistory, []byte(zyppHistoryLine("2026-11-20 10:00:00", "openSUSE-SLE-15.6-2026-1500", "not-needed", "applied"))),
			checks.StatusUnknown, "how long is not known"},
		{"history.logfile in zypp.conf is where the last patch is read, not the default history", leap().
			AddFile("/etc/zypp/zypp.conf", []byte("## hand-written in zypp.conf(5)'s layout\n[main]\n# history.logfile = /var/log/zypp/history\nhistory.logfile = /srv/log/zypp-history\n")).
			AddFile("/srv/log/zypp-history", []byte(zyppHistoryLine("2026-09-01 03:10:44", "openSUSE-SLE-15.6-2026-1001", "needed", "applied"))).
			AddFile(zyppHistory, []byte(zyppHistoryLine("2026-11-20 10:00:00", "openSUSE-SLE-15.6-2026-1500", "not-needed", "applied"))),
			checks.StatusFail, "48 security updates pending for 83 days (no full update since 2026-09-01)"},
		{"the vendor's /usr/etc/zypp/zypp.conf moves the history when /etc has none", leap().
			AddFile("/usr/etc/zypp/zypp.conf", []byte("[main]\nhistory.logfile = /srv/log/zypp-history\n")).
			AddFile("/srv/log/zypp-history", []byte(zyppHistoryLine("2026-11-20 10:00:00", "openSUSE-SLE-15.6-2026-1500", "not-needed", "applied"))).
			AddFile(zyppHistory, []byte(zyppHistoryLine("2026-09-01 03:10:44", "openSUSE-SLE-15.6-2026-1001", "needed", "applied"))),
			checks.StatusUnknown, "how long is not known"},
		{"an /etc/zypp/zypp.conf without history.logfile leaves the default, even if the vendor's moves it", leap().
			AddFile("/etc/zypp/zypp.conf", []byte("[main]\n# history.logfile = /var/log/zypp/history\n")).
			AddFile("/usr/etc/zypp/zypp.conf", []byte("[main]\nhistory.logfile = /srv/log/zypp-history\n")).
			AddFile(zyppHistory, []byte(zyppHistoryLine("2026-09-01 03:10:44", "openSUSE-SLE-15.6-2026-1001", "needed", "applied"))),
			checks.StatusFail, "48 security updates pending for 83 days (no full update since 2026-09-01)"},
		{"a real empty listing from Tumbleweed passes", suse("opensuse-tumbleweed", "20260830").
			AddRun(zypperArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "zypper-lu__tumbleweed_none_mpm.xml")}, nil),
			checks.StatusPass, "no security updates pending (zypper list-patches --category security"},
		{"a security patch issued 13 days ago is within the grace period", suse("opensuse-leap", "15.6").
			AddRun(zypperArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "zypper-lp__security_issued_handwritten.xml")}, nil),
			checks.StatusPass, "1 security updates pending for 13 days (oldest released 2026-11-10)"},
		{"the zypp lock held by another zypper (real output, exit 7) is unknown and says so", suse("opensuse-leap", "16.0").
			AddRun(zypperArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "zypper-lu__leap16_locked_mondoo.xml"), ExitCode: 7}, nil),
			checks.StatusUnknown, "System management is locked by the application with pid 15950 (zypper)."},
		{"an empty listing whose repositories could not be loaded (real output) is unknown", suse("opensuse-leap", "16.0").
			AddRun(zypperArgv, host.Output{Stdout: checktest.Testdata(t, "linux", "zypper-lu__leap16_nonroot_nocache_mondoo.xml")}, nil),
			checks.StatusUnknown, "the list is incomplete: zypper could not load every repository (exit 0): Error building the cache:"},
		{"a zypper that cannot be run is unknown", suse("sles", "16.0").
			AddRun(zypperArgv, host.Output{}, host.Wrap(host.ErrPermission, errors.New("fork/exec /usr/bin/zypper: permission denied"))),
			checks.StatusUnknown, "zypper list-patches --category security: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: DefaultThresholds(), Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "zypper patch") {
				t.Errorf("remediation %q does not name zypper", res.Remediation)
			}
		})
	}
}

func TestFedoraWithZypperInstalledStillUsesDnf(t *testing.T) {
	h := host.NewFake("linux", "amd64").
		AddFile("/etc/os-release", []byte("ID=fedora\nVERSION_ID=43\n")).
		AddStat(zypperPath, file(now), nil).
		AddStat(dnfPath, file(now), nil).
		AddRun([]string{dnfPath, "-q", "updateinfo", "list", "--security"}, host.Output{Stdout: checktest.Testdata(t, "linux", "dnf5__security_issued.txt")}, nil)
	f, err := collectLinux(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if f.Pending == nil || f.Pending.Source != "dnf updateinfo list --security" {
		t.Errorf("pending %+v, error %q", f.Pending, f.PendingError)
	}
}

func TestParseZypperPatchesRealLeapListing(t *testing.T) {
	got, err := parseZypperPatches(checktest.Testdata(t, "linux", "zypper-lu-patch__leap15.6_blocked_mondoo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// 70 patches: 69 needed (1 in update-list, 68 blocked) and 1 optional;
	// 48 of the needed are security patches, 29 of them important.
	important := 0
	for _, u := range got.security {
		if u.Severity == "important" {
			important++
		}
	}
	if got.needed != 69 || len(got.security) != 48 || important != 29 || len(got.errors) != 0 {
		t.Errorf("needed %d, security %d (important %d), errors %q", got.needed, len(got.security), important, got.errors)
	}
	want := Update{Name: "openSUSE-SLE-15.6-2026-1840", Version: "1", Origin: "Security update for the Linux Kernel", Severity: "important"}
	if diff := cmp.Diff(want, got.security[len(got.security)-1]); diff != "" {
		t.Errorf("last blocked patch (-want +got):\n%s", diff)
	}
}

func TestParseZypperPatchesErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"a locked stream has no listing", string(checktest.Testdata(t, "linux", "zypper-lu__leap16_locked_mondoo.xml")), "System management is locked"},
		{"text output is not XML", "Loading repository data...\nNo updates found.\n", "decode zypper's XML"},
		{"an XML stream without update-status", "<?xml version='1.0'?>\n<stream>\n</stream>\n", "no update-status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseZypperPatches([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestLastZyppPatchCountsNeededToApplied(t *testing.T) {
	log := "2026-10-02 14:21:32|command|root@localhost|'zypper' 'patch'|\n" +
		zyppHistoryLine("2026-10-02 14:22:18", "openSUSE-Leap-16.0-1026", "not-needed", "applied") +
		zyppHistoryLine("2026-10-01 09:00:00", "openSUSE-Leap-16.0-1000", "needed", "applied") +
		"# 2026-10-03 10:00:00 a comment\n"
	got, ok := lastZyppPatch([]byte(log))
	if !ok || !got.Equal(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("last patch = %v, %t", got, ok)
	}
}
