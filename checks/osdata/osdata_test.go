package osdata

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/postern-dev/postern/checks/host"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

func TestEmbeddedTableIsValid(t *testing.T) {
	tab := Default()
	if len(tab.Releases) < 40 || len(tab.Baselines) == 0 {
		t.Fatalf("table has %d releases, %d baselines", len(tab.Releases), len(tab.Baselines))
	}
	for _, r := range tab.Releases {
		if err := r.Validate(); err != nil {
			t.Errorf("%s %s: %v", r.Platform, r.Version, err)
		}
	}
	for _, b := range tab.Baselines {
		if err := b.Validate(); err != nil {
			t.Errorf("baseline %s %s: %v", b.Platform, b.Version, err)
		}
	}
}

func TestJudge(t *testing.T) {
	win := func(build, edition string) Identity {
		return Identity{Platform: "windows", Version: build, Edition: edition, InstallationType: "Client"}
	}
	tests := []struct {
		name     string
		id       Identity
		enrolled []string
		now      string
		want     string
		wantProg string
	}{
		{"Windows 10 22H2 is supported the day support ends", win("19045", "Professional"), nil, "2025-10-14", StateSupported, ""},
		{"Windows 10 22H2 is end of life the day after without ESU", win("19045", "Professional"), nil, "2025-10-15", StateEOL, ""},
		{"Windows 10 22H2 with a year 1 ESU licence is covered", win("19045", "Enterprise"), []string{"F520E45E-7413-4A34-A497-D2765967D094"}, "2026-01-10", StateExtended, "Windows 10 ESU year 1"},
		{"a year 1 ESU licence does not cover year 2", win("19045", "Enterprise"), []string{"f520e45e-7413-4a34-a497-d2765967d094"}, "2026-11-23", StateEOL, ""},
		{"a year 2 ESU licence covers year 2", win("19045", "Enterprise"), []string{"1043add5-23b1-4afb-9a0f-64343c8f3f8d"}, "2026-11-23", StateExtended, "Windows 10 ESU year 2"},
		{"Windows 11 23H2 Home ended before Enterprise", win("22631", "Core"), nil, "2026-01-01", StateEOL, ""},
		{"Windows 11 23H2 Enterprise is still supported", win("22631", "Enterprise"), nil, "2026-01-01", StateSupported, ""},
		{"Windows 10 LTSC 2021 follows its own date", win("19044", "EnterpriseS"), nil, "2026-01-01", StateSupported, ""},
		{"an ancient Windows build is end of life", win("10240", "Professional"), nil, "2026-01-01", StateEOL, ""},
		{"an unlisted newer Windows build is unknown", win("29999", "Professional"), nil, "2026-01-01", StateUnknown, ""},
		{"macOS Sonoma is supported while it is among the latest three", Identity{Platform: "macos", Version: "14.8.1"}, nil, "2026-01-01", StateSupported, ""},
		{"macOS Ventura is end of life", Identity{Platform: "macos", Version: "13.7.8"}, nil, "2026-01-01", StateEOL, ""},
		{"a macOS newer than the table is supported", Identity{Platform: "macos", Version: "28.0"}, nil, "2026-11-01", StateSupported, ""},
		{"Ubuntu 20.04 without Pro is end of life", Identity{Platform: "ubuntu", Version: "20.04"}, nil, "2026-01-01", StateEOL, ""},
		{"Ubuntu 20.04 with ESM infra is covered", Identity{Platform: "ubuntu", Version: "20.04"}, []string{"esm-infra"}, "2026-01-01", StateExtended, "Ubuntu Pro ESM"},
		{"Debian 12 is in LTS after the security team's end", Identity{Platform: "debian", Version: "12"}, nil, "2026-11-23", StateExtended, "Debian LTS"},
		{"Debian 11 after LTS is end of life", Identity{Platform: "debian", Version: "11"}, nil, "2026-11-23", StateEOL, ""},
		{"a RHEL point release matches its major", Identity{Platform: "rhel", Version: "9.4"}, nil, "2026-11-23", StateSupported, ""},
		{"SLES 15 SP5 with LTSS is covered", Identity{Platform: "sles", Version: "15.5"}, []string{"SLES-LTSS.prod"}, "2026-11-23", StateExtended, "SUSE LTSS"},
		{"Tumbleweed is always listed", Identity{Platform: "opensuse-tumbleweed", Version: "20261120"}, nil, "2026-11-23", StateSupported, ""},
		{"an unknown distribution is unknown", Identity{Platform: "gentoo", Version: "2.17"}, nil, "2026-11-23", StateUnknown, ""},
		{"Debian testing without a version is unknown", Identity{Platform: "debian"}, nil, "2026-11-23", StateUnknown, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := Default().Judge(tc.id, tc.enrolled, day(tc.now))
			if j.State != tc.want {
				t.Fatalf("state = %s (%s), want %s", j.State, j.Reason, tc.want)
			}
			prog := ""
			if j.Extension != nil {
				prog = j.Extension.Program
			}
			if prog != tc.wantProg {
				t.Errorf("program = %q, want %q", prog, tc.wantProg)
			}
		})
	}
}

func TestSupportedLatestRetiresTheFourthNewest(t *testing.T) {
	extra := Releases{{Platform: "macos", Version: "27", Name: "macOS 27", Released: Date{day("2026-09-15").Truncate(24 * time.Hour)}, Source: "https://support.apple.com/en-us/100100"}}
	tab := Default().WithReleases(extra, false)
	j := tab.Judge(Identity{Platform: "macos", Version: "14.8"}, nil, day("2026-11-01"))
	if j.State != StateEOL || j.EOL.String() != "2026-09-15" {
		t.Errorf("Sonoma after macOS 27 = %s, eol %s; want end of life on 2026-09-15", j.State, j.EOL)
	}
}

func TestOverridesDecodeStrictly(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"a complete entry decodes", "- {platform: ubuntu, version: '26.10', name: Ubuntu 26.10, eol: 2027-07-31, source: 'https://ubuntu.com/about/release-cycle'}", ""},
		{"a misspelt field is refused", "- {platform: ubuntu, version: '26.10', name: U, eoll: 2027-07-31, source: 'https://ubuntu.com/'}", "eoll"},
		{"a bad date is refused", "- {platform: ubuntu, version: '26.10', name: U, eol: July 2027, source: 'https://ubuntu.com/'}", "not a date"},
		{"an entry without a source is refused", "- {platform: ubuntu, version: '26.10', name: U, eol: 2027-07-31}", "source"},
		{"an unknown edition is refused", "- {platform: windows, version: '26100', editions: [gaming], name: W, source: 'https://learn.microsoft.com/'}", "edition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rs Releases
			err := yaml.Unmarshal([]byte(tc.yaml), &rs)
			if tc.wantErr == "" {
				if err != nil || len(rs) != 1 {
					t.Fatalf("err = %v, %d releases", err, len(rs))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestWithReleasesReplacesTheSameKey(t *testing.T) {
	extra := Releases{{Platform: "debian", Version: "12", Name: "Debian 12 (override)", EOL: Date{day("2030-01-01").Truncate(24 * time.Hour)}, Source: "https://wiki.debian.org/DebianReleases"}}
	tab := Default().WithReleases(extra, false)
	r, _ := tab.FindRelease(Identity{Platform: "debian", Version: "12"})
	if r.Name != "Debian 12 (override)" {
		t.Errorf("found %q", r.Name)
	}
	if n := len(tab.Releases); n != len(Default().Releases) {
		t.Errorf("table has %d releases, want %d", n, len(Default().Releases))
	}
	if only := Default().WithReleases(extra, true); len(only.Releases) != 1 {
		t.Errorf("replace kept %d releases", len(only.Releases))
	}
}

func TestReadIdentity(t *testing.T) {
	reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
	osRelease, err := os.ReadFile("testdata/linux/os-release__ubuntu2204.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    host.Host
		want Identity
	}{
		{"Windows 11 reads build, UBR and edition", host.NewFake("windows", "amd64").
			AddRegistry(WindowsCurrentVersion, "CurrentBuildNumber", reg("26100"), nil).
			AddRegistry(WindowsCurrentVersion, "UBR", host.RegistryValue{Type: "REG_DWORD", Integer: 6584}, nil).
			AddRegistry(WindowsCurrentVersion, "EditionID", reg("Professional"), nil).
			AddRegistry(WindowsCurrentVersion, "InstallationType", reg("Client"), nil).
			AddRegistry(WindowsCurrentVersion, "ProductName", reg("Windows 10 Pro"), nil).
			AddRegistry(WindowsCurrentVersion, "DisplayVersion", reg("24H2"), nil),
			Identity{Platform: "windows", Version: "26100", Patch: "6584", Edition: "Professional", InstallationType: "Client", Name: "Windows 11 Pro 24H2", Source: WindowsCurrentVersion + " CurrentBuildNumber, UBR, EditionID, InstallationType, ProductName"}},
		{"a Mac without SystemVersion.plist falls back to sw_vers", host.NewFake("darwin", "arm64").
			AddRun([]string{swVersPath, "-productVersion"}, host.Output{Stdout: []byte("15.7.1\n")}, nil),
			Identity{Platform: "macos", Version: "15.7.1", Name: "macOS 15.7.1", Source: "sw_vers -productVersion"}},
		{"Ubuntu is read from os-release", host.NewFake("linux", "amd64").AddFile("/etc/os-release", osRelease),
			Identity{Platform: "ubuntu", Version: "22.04", Name: "Ubuntu 22.04.4 LTS", Source: "/etc/os-release ID, VERSION_ID"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadIdentity(context.Background(), tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadIdentityErrorsSayWhy(t *testing.T) {
	_, err := ReadIdentity(context.Background(), host.NewFake("linux", "amd64"))
	if err == nil || !strings.Contains(err.Error(), "/etc/os-release") {
		t.Errorf("err = %v", err)
	}
}
