package ossupported

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func windows(build, edition string) *host.Fake {
	reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
	return host.NewFake("windows", "amd64").
		AddRegistry(osdata.WindowsCurrentVersion, "CurrentBuildNumber", reg(build), nil).
		AddRegistry(osdata.WindowsCurrentVersion, "UBR", host.RegistryValue{Type: "REG_DWORD", Integer: 6456}, nil).
		AddRegistry(osdata.WindowsCurrentVersion, "EditionID", reg(edition), nil).
		AddRegistry(osdata.WindowsCurrentVersion, "InstallationType", reg("Client"), nil).
		AddRegistry(osdata.WindowsCurrentVersion, "ProductName", reg("Windows 10 "+edition), nil)
}

func esuRows(id string, status int) []map[string]any {
	return []map[string]any{
		{"ID": "4de7cb65-cdf1-4de9-8ae8-e3cce27b9f2c", "Name": "Windows(R), Professional edition", "LicenseStatus": 1},
		{"ID": id, "Name": "Windows(R), Client-ESU-Year2 add-on for Windows(R) 10", "LicenseStatus": status},
	}
}

func TestCollectAndEvaluate(t *testing.T) {
	tests := []struct {
		name      string
		h         *host.Fake
		want      checks.Status
		wantInSum string
	}{
		{"Windows 10 22H2 with an active year 2 ESU licence passes", windows("19045", "Enterprise").
			AddWMI(`root\cimv2`, licenseQuery, esuRows("1043ADD5-23B1-4AFB-9A0F-64343C8F3F8D", 1), nil),
			checks.StatusPass, "covered by Windows 10 ESU year 2 until 2027-10-12"},
		{"Windows 10 22H2 whose ESU licence is not activated fails", windows("19045", "Professional").
			AddWMI(`root\cimv2`, licenseQuery, esuRows("1043add5-23b1-4afb-9a0f-64343c8f3f8d", 5), nil),
			checks.StatusFail, "reached end of support on 2025-10-14; no enrolment in Windows 10 ESU year 2 or Windows 10 ESU year 3"},
		{"Windows 10 whose licences cannot be read fails and says why", windows("19045", "Professional").
			AddWMI(`root\cimv2`, licenseQuery, nil, host.Wrap(host.ErrPermission, errors.New("wmi query in root\\cimv2: powershell exited 1: Access denied"))),
			checks.StatusFail, "Access denied"},
		{"Windows 11 24H2 Enterprise passes", windows("26100", "Enterprise"), checks.StatusPass, "Windows 11 24H2 is supported until 2027-10-12"},
		{"Windows 11 24H2 Home fails after 2026-10-13", windows("26100", "Core"), checks.StatusFail, "reached end of support on 2026-10-13"},
		{"Windows 11 23H2 Enterprise fails after 2026-11-10", windows("22631", "Enterprise"), checks.StatusFail, "2026-11-10"},
		{"real Debian 12 os-release in LTS shows both the regular and the LTS end", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", checktest.Testdata(t, "linux", "os-release__debian12.txt")),
			checks.StatusPass, "past its end of standard support (2026-06-10) and covered by Debian LTS until 2028-06-30"},
		{"Ubuntu 20.04 attached to Pro with esm-infra passes", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", checktest.Testdata(t, "linux", "os-release__ubuntu2004.txt")).
			AddFile(proStatusPath, checktest.Testdata(t, "linux", "ubuntu-advantage-status__esm_infra.txt")),
			checks.StatusPass, "covered by Ubuntu Pro ESM until 2030-04-30"},
		{"Ubuntu 20.04 without the Pro client fails", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", checktest.Testdata(t, "linux", "os-release__ubuntu2004.txt")),
			checks.StatusFail, "no enrolment in Ubuntu Pro ESM"},
		{"SLES 15 SP5 registered for LTSS passes", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", []byte("NAME=\"SLES\"\nVERSION_ID=\"15.5\"\nID=\"sles\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\n")).
			AddDir(suseProductsDir, []string{"SLES-LTSS.prod", "SLES.prod", "baseproduct"}, nil),
			checks.StatusPass, "covered by SUSE LTSS"},
		{"an unknown distribution is unknown with the reason", host.NewFake("linux", "amd64").
			AddFile("/etc/os-release", []byte("ID=gentoo\nVERSION_ID=2.17\nPRETTY_NAME=\"Gentoo Linux\"\n")),
			checks.StatusUnknown, "not in the end-of-life table"},
		{"a Mac on Ventura fails", host.NewFake("darwin", "arm64").
			AddRun([]string{"/usr/bin/sw_vers", "-productVersion"}, host.Output{Stdout: []byte("13.7.8\n")}, nil),
			checks.StatusFail, "macOS Ventura reached end of support on 2025-09-15"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: DefaultThresholds(), Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
			if res.Status != checks.StatusUnknown && res.Evidence["release_source"] == nil {
				t.Error("the evidence does not cite the table's source")
			}
		})
	}
}

func TestNoLicenceQueryWhereNoneIsNeeded(t *testing.T) {
	// The fake has no WMI answer: a query would be recorded as an error.
	facts, err := Collect(context.Background(), windows("26100", "Professional"))
	if err != nil {
		t.Fatal(err)
	}
	if f := facts.(*Facts); f.EnrollmentSource != "" || f.EnrollmentError != "" {
		t.Errorf("the licence query ran: %+v", f)
	}
}

func TestPolicyUpdatesTheTable(t *testing.T) {
	policy := `controls:
  os_supported:
    allow_extended: false
    releases:
      - platform: debian
        version: "12"
        name: Debian 12 (policy)
        eol: 2026-06-10
        source: https://wiki.debian.org/DebianReleases
`
	p, err := checks.ParsePolicy([]byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	facts, _ := json.Marshal(Facts{OS: osdata.Identity{Platform: "debian", Version: "12", Name: "Debian GNU/Linux 12"}})
	res := Evaluate(checks.EvalInput{OS: "linux", Facts: facts, Thresholds: p.Thresholds(checks.OSSupported), Now: now})
	if res.Status != checks.StatusFail || !strings.Contains(res.Summary, "Debian 12 (policy) reached end of support on 2026-06-10") {
		t.Errorf("got %s %q", res.Status, res.Summary)
	}
	for _, bad := range []string{
		"controls:\n  os_supported:\n    releases:\n      - {platform: debian, version: '12', name: D, eol: 2026-06-10, sorce: https://x.org/}\n",
		"controls:\n  os_supported:\n    replace_releases: true\n",
	} {
		if _, err := checks.ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("policy accepted:\n%s", bad)
		}
	}
}

func TestUndecodableFactsAreUnknown(t *testing.T) {
	if res := Evaluate(checks.EvalInput{Facts: json.RawMessage(`{"os":"Windows"}`), Now: now}); res.Status != checks.StatusUnknown {
		t.Errorf("status = %s", res.Status)
	}
}
