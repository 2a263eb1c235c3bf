package ossupported

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

// linuxWith is a Linux fake whose os-release is the real sample name at
// path (/etc/os-release, or /usr/lib/os-release where the capture came
// from there).
func linuxWith(t *testing.T, path, name string) *host.Fake {
	t.Helper()
	return host.NewFake("linux", "amd64").AddFile(path, checktest.Testdata(t, "linux", name))
}

// macWith is a macOS fake without SystemVersion.plist whose
// `sw_vers -productVersion` prints the ProductVersion of a real plain
// `sw_vers` capture (the collector asks for that one field; see
// testdata/README.md).
func macWith(t *testing.T, name string) *host.Fake {
	t.Helper()
	var version string
	sc := bufio.NewScanner(bytes.NewReader(checktest.Testdata(t, "darwin", name)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ProductVersion:"); ok {
			version = strings.TrimSpace(v)
		}
	}
	if version == "" {
		t.Fatalf("%s has no ProductVersion line", name)
	}
	return host.NewFake("darwin", "arm64").
		AddRun([]string{"/usr/bin/sw_vers", "-productVersion"}, host.Output{Stdout: []byte(version + "\n")}, nil)
}

// TestRealReleasesAgainstTheTable replays real os-release files, Ubuntu
// Pro status, Windows CurrentVersion captures and sw_vers outputs
// (testdata/README.md cites each) and judges them against the embedded
// end-of-life table on the fixed day now.
func TestRealReleasesAgainstTheTable(t *testing.T) {
	const etc, usrLib = "/etc/os-release", "/usr/lib/os-release"
	proJSON := func(h *host.Fake) *host.Fake {
		return h.AddRun([]string{proPath, "status", "--format", "json"}, host.Output{Stdout: checktest.Testdata(t, "linux", "pro-status-json__ubuntu2404_attached.txt")}, nil)
	}
	tests := []struct {
		name      string
		h         *host.Fake
		want      checks.Status
		wantInSum string
	}{
		// Ubuntu.
		{"Ubuntu 20.04 without Ubuntu Pro fails", linuxWith(t, etc, "os-release__ubuntu2004.txt"),
			checks.StatusFail, "Ubuntu 20.04 LTS reached end of support on 2025-05-31; no enrolment in Ubuntu Pro ESM"},
		{"Ubuntu 20.04 whose pro status shows esm-infra enabled passes", proJSON(linuxWith(t, etc, "os-release__ubuntu2004.txt")),
			checks.StatusPass, "covered by Ubuntu Pro ESM until 2030-04-30"},
		{"Ubuntu 22.04 is in standard support", linuxWith(t, etc, "os-release__ubuntu2204.txt"),
			checks.StatusPass, "Ubuntu 22.04 LTS is supported until 2027-06-30"},
		{"Ubuntu 24.04 attached to Pro is in standard support", proJSON(linuxWith(t, etc, "os-release__ubuntu2404.txt")),
			checks.StatusPass, "Ubuntu 24.04 LTS is supported until 2029-05-31"},
		{"Ubuntu 25.04, an interim release, has ended", linuxWith(t, etc, "os-release__ubuntu2504.txt"),
			checks.StatusFail, "Ubuntu 25.04 reached end of support on 2026-01-31"},
		{"Ubuntu 25.10 without a final newline has ended", linuxWith(t, etc, "os-release__ubuntu2510.txt"),
			checks.StatusFail, "Ubuntu 25.10 reached end of support on 2026-07-31"},
		// Debian.
		{"Debian 11 is past its LTS too", linuxWith(t, etc, "os-release__debian11.txt"),
			checks.StatusFail, "Debian 11 (bullseye) reached end of support on 2024-08-14"},
		{"Debian 13 is supported and shows both its regular and its LTS end", linuxWith(t, etc, "os-release__debian13.txt"),
			checks.StatusPass, "Debian 13 (trixie) is supported until 2028-08-09, then by Debian LTS until 2030-06-30"},
		// Red Hat family: point releases match their major.
		{"RHEL 8.7 is supported", linuxWith(t, etc, "os-release__rhel87.txt"),
			checks.StatusPass, "Red Hat Enterprise Linux 8 is supported until 2029-05-31"},
		{"RHEL 9.6 is supported", linuxWith(t, etc, "os-release__rhel96.txt"),
			checks.StatusPass, "Red Hat Enterprise Linux 9 is supported until 2032-05-31"},
		{"RHEL 10.0 is supported", linuxWith(t, etc, "os-release__rhel100.txt"),
			checks.StatusPass, "Red Hat Enterprise Linux 10 is supported until 2035-05-31"},
		{"Rocky 9.3 with only /usr/lib/os-release is read from there", linuxWith(t, usrLib, "os-release__rocky93.txt"),
			checks.StatusPass, "Rocky Linux 9 is supported until 2032-05-31"},
		{"AlmaLinux 9.1 is supported", linuxWith(t, etc, "os-release__almalinux91.txt"),
			checks.StatusPass, "AlmaLinux 9 is supported until 2032-05-31"},
		{"AlmaLinux 10.0 is supported", linuxWith(t, usrLib, "os-release__almalinux100.txt"),
			checks.StatusPass, "AlmaLinux 10 is supported until 2035-05-31"},
		{"CentOS Linux 8 has ended", linuxWith(t, etc, "os-release__centos8.txt"),
			checks.StatusFail, "reached end of support on 2024-05-31"},
		{"CentOS Stream 9 is supported", linuxWith(t, etc, "os-release__centos_stream9.txt"),
			checks.StatusPass, "CentOS Stream 9 is supported until 2027-05-31"},
		// Fedora.
		{"Fedora 42 has ended", linuxWith(t, usrLib, "os-release__fedora42.txt"),
			checks.StatusFail, "Fedora 42 reached end of support on 2026-05-28"},
		{"Fedora 43 days before its end passes with a warning", linuxWith(t, etc, "os-release__fedora43.txt"),
			checks.StatusPass, "Fedora 43 is supported until 2026-12-02 (9 days left: plan the upgrade)"},
		// SUSE.
		{"SLES 15 SP6 without LTSS fails", linuxWith(t, etc, "os-release__sles15sp6.txt"),
			checks.StatusFail, "SUSE Linux Enterprise 15 SP6 reached end of support on 2025-12-31; no enrolment in SUSE LTSS"},
		{"SLES 15 SP6 registered for LTSS passes", linuxWith(t, etc, "os-release__sles15sp6.txt").
			AddDir(suseProductsDir, []string{"SLES.prod", "SLES-LTSS.prod", "baseproduct"}, nil),
			checks.StatusPass, "covered by SUSE LTSS until 2028-12-31"},
		{"SLES 16.0 with comment lines in os-release is supported", linuxWith(t, etc, "os-release__sles16_beta4.txt"),
			checks.StatusPass, "SUSE Linux Enterprise 16.0 is supported until 2027-11-30"},
		{"openSUSE Leap 15.4, older than the table, has ended", linuxWith(t, etc, "os-release__opensuse_leap154.txt"),
			checks.StatusFail, "no longer supported"},
		{"openSUSE Tumbleweed is a supported rolling release", linuxWith(t, etc, "os-release__opensuse_tumbleweed20230304.txt"),
			checks.StatusPass, "openSUSE Tumbleweed is supported"},
		{"a 2016 Tumbleweed that says ID=opensuse is judged as Tumbleweed, not Leap", linuxWith(t, etc, "os-release__opensuse_tumbleweed20160917.txt"),
			checks.StatusPass, "openSUSE Tumbleweed is supported"},
		// Windows.
		{"Windows 11 25H2 Pro (ProductName still says Windows 10) passes", windowsFromCapture(t, "reg-query-currentversion__win11_25h2_pro.txt"),
			checks.StatusPass, "Windows 11 25H2 is supported until 2027-10-12"},
		{"Windows 10 22H2 Pro without an ESU licence fails", windowsFromCapture(t, "reg-query-currentversion__win10_22h2_pro.txt").
			AddWMI(`root\cimv2`, licenseQuery, []map[string]any{{"ID": "4de7cb65-cdf1-4de9-8ae8-e3cce27b9f2c", "Name": "Windows(R), Professional edition", "LicenseStatus": 1}}, nil),
			checks.StatusFail, "Windows 10 22H2 reached end of support on 2025-10-14; no enrolment in Windows 10 ESU year 2"},
		{"Windows 7 SP1 is older than the table and fails", windowsFromCapture(t, "reg-query-currentversion__win7_sp1_pro.txt"),
			checks.StatusFail, "Windows 7 Professional is no longer supported"},
		// macOS.
		{"macOS 15.7.1, one of the three latest majors, passes", macWith(t, "sw_vers__macos15_7_1.txt"),
			checks.StatusPass, "supported"},
		{"macOS 12.7.6 fails", macWith(t, "sw_vers__macos12_7_6.txt"),
			checks.StatusFail, "reached end of support on 2024-09-16"},
		{"macOS 11.7.2 fails", macWith(t, "sw_vers__macos11_7_2.txt"),
			checks.StatusFail, "reached end of support on 2023-09-26"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: DefaultThresholds(), Now: now})
			t.Logf("%s: %s", res.Status, res.Summary)
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
			if res.Status == checks.StatusUnknown && res.Summary == "" {
				t.Error("unknown without a reason")
			}
		})
	}
}

// The real pro status lists esm-apps and esm-infra as enabled and
// livepatch in a warning state: only enabled services count as evidence.
func TestRealProStatusEnrolments(t *testing.T) {
	h := linuxWith(t, "/etc/os-release", "os-release__ubuntu2404.txt").
		AddRun([]string{proPath, "status", "--format", "json"}, host.Output{Stdout: checktest.Testdata(t, "linux", "pro-status-json__ubuntu2404_attached.txt")}, nil)
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	f := facts.(*Facts)
	got := strings.Join(f.enrolledIDs(), ",")
	if got != "esm-apps,esm-infra" || f.EnrollmentSource != "pro status --format json" || f.EnrollmentError != "" {
		t.Errorf("enrolments %q from %q (error %q)", got, f.EnrollmentSource, f.EnrollmentError)
	}
}

func TestWindowsRemediationFollowsTheRelease(t *testing.T) {
	tests := []struct {
		name string
		id   osdata.Identity
		want string
	}{
		{"Windows 7 is told to upgrade or replace, not to install a feature update", osdata.Identity{Platform: "windows", Version: "7601"}, "no longer gets security updates"},
		{"Windows 10 is told about Windows 11 and ESU", osdata.Identity{Platform: "windows", Version: "19045"}, "Windows 10 Extended Security Updates"},
		{"Windows 11 is told to install the newest feature update", osdata.Identity{Platform: "windows", Version: "22631"}, "latest Windows feature update"},
		{"Windows Server is told to move to a supported server release", osdata.Identity{Platform: "windows", Version: "17763", InstallationType: "Server"}, "Windows Server release"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := remediation("windows", tc.id); !strings.Contains(got, tc.want) {
				t.Errorf("remediation %q, want it to mention %q", got, tc.want)
			}
		})
	}
}
