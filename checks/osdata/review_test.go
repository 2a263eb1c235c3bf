package osdata

import "testing"

// TestReleasesAddedInTheNovember2026Review pins the entries added or
// corrected when the table was reviewed on 2026-11-23 (issue 3): each is
// judged on that day and at its end of support, so a slip in a date or a
// missing entry shows here rather than as a blocked device.
func TestReleasesAddedInTheNovember2026Review(t *testing.T) {
	win := func(build, edition string) Identity {
		return Identity{Platform: "windows", Version: build, Edition: edition, InstallationType: "Client"}
	}
	tests := []struct {
		name    string
		id      Identity
		now     string
		want    string
		wantEOL string
	}{
		{"Windows 11 26H1 Home is supported on new devices", win("28000", "Core"), "2026-11-23", StateSupported, "2028-03-14"},
		{"Windows 11 26H1 Enterprise gets its longer term", win("28000", "Enterprise"), "2026-11-23", StateSupported, "2029-03-13"},
		{"Windows 11 26H2 Pro is supported", win("26300", "Professional"), "2026-11-23", StateSupported, "2028-10-10"},
		{"Windows 11 26H2 Pro ends after its last Patch Tuesday", win("26300", "Professional"), "2028-10-11", StateEOL, "2028-10-10"},
		{"Windows 11 26H2 Education is supported", win("26300", "Education"), "2026-11-23", StateSupported, "2029-10-09"},
		{"Windows 11 24H2 Home ended in October 2026", win("26100", "Core"), "2026-11-23", StateEOL, "2026-10-13"},
		{"Ubuntu 26.10 is supported", Identity{Platform: "ubuntu", Version: "26.10"}, "2026-11-23", StateSupported, "2027-07-31"},
		{"Ubuntu 26.04 LTS is supported", Identity{Platform: "ubuntu", Version: "26.04"}, "2026-11-23", StateSupported, "2031-05-31"},
		{"Ubuntu 25.10 ended in July 2026", Identity{Platform: "ubuntu", Version: "25.10"}, "2026-11-23", StateEOL, "2026-07-31"},
		{"Fedora 44 is supported", Identity{Platform: "fedora", Version: "44"}, "2026-11-23", StateSupported, "2027-05-30"},
		{"Fedora 42 ended on its announced day", Identity{Platform: "fedora", Version: "42"}, "2026-05-29", StateEOL, "2026-05-28"},
		{"SUSE Linux Enterprise 16.0 is supported", Identity{Platform: "sles", Version: "16.0"}, "2026-11-23", StateSupported, "2027-11-30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := Default().Judge(tc.id, nil, day(tc.now))
			if j.State != tc.want {
				t.Fatalf("state = %s (%s), want %s", j.State, j.Reason, tc.want)
			}
			if got := j.EOL.String(); got != tc.wantEOL {
				t.Errorf("eol = %s, want %s", got, tc.wantEOL)
			}
		})
	}
}

// TestSecondPassOfTheNovember2026Review pins what the second pass of the
// 2026-11-23 review changed: macOS 27 and the end of Sonoma through the
// latest-three rule, Fedora 45, AlmaLinux 8's later end, CentOS Stream 10
// ending with RHEL 10 full support, and the RHEL 10 rebuilds.
func TestSecondPassOfTheNovember2026Review(t *testing.T) {
	mac := func(v string) Identity { return Identity{Platform: "macos", Version: v} }
	tests := []struct {
		name    string
		id      Identity
		now     string
		want    string
		wantEOL string
	}{
		{"macOS Golden Gate 27 is supported", mac("27.0.1"), "2026-11-23", StateSupported, ""},
		{"macOS Sonoma is supported the day macOS 27 shipped", mac("14.8.9"), "2026-09-14", StateSupported, "2026-09-14"},
		{"macOS Sonoma is end of life after macOS 27 shipped", mac("14.8.9"), "2026-11-23", StateEOL, "2026-09-14"},
		{"macOS Sequoia is still among the latest three", mac("15.8.1"), "2026-11-23", StateSupported, ""},
		{"Fedora 45 is supported", Identity{Platform: "fedora", Version: "45"}, "2026-11-23", StateSupported, "2027-12-08"},
		{"Fedora 43 is supported until its scheduled end", Identity{Platform: "fedora", Version: "43"}, "2026-12-02", StateSupported, "2026-12-02"},
		{"Fedora 43 ends after its scheduled day", Identity{Platform: "fedora", Version: "43"}, "2026-12-03", StateEOL, "2026-12-02"},
		{"AlmaLinux 8 runs to the end of May 2029", Identity{Platform: "almalinux", Version: "8.10"}, "2029-05-31", StateSupported, "2029-05-31"},
		{"CentOS Stream 10 ends with RHEL 10 full support", Identity{Platform: "centos", Version: "10"}, "2030-06-01", StateEOL, "2030-05-31"},
		{"RHEL 10 point releases match their major", Identity{Platform: "rhel", Version: "10.1"}, "2026-11-23", StateSupported, "2035-05-31"},
		{"Rocky Linux 10 is supported", Identity{Platform: "rocky", Version: "10.1"}, "2026-11-23", StateSupported, "2035-05-31"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := Default().Judge(tc.id, nil, day(tc.now))
			if j.State != tc.want {
				t.Fatalf("state = %s (%s), want %s", j.State, j.Reason, tc.want)
			}
			got := ""
			if !j.EOL.IsZero() {
				got = j.EOL.String()
			}
			if got != tc.wantEOL {
				t.Errorf("eol = %q, want %q", got, tc.wantEOL)
			}
		})
	}
}

// TestBaselinesCoverEverySupportedRelease checks that each Windows build
// and macOS major still supported on the review day has a patch baseline,
// and that a macOS point release finds its major's baseline.
func TestBaselinesCoverEverySupportedRelease(t *testing.T) {
	tab := Default()
	for _, id := range []Identity{
		{Platform: "windows", Version: "19045"}, {Platform: "windows", Version: "26100"},
		{Platform: "windows", Version: "26200"}, {Platform: "windows", Version: "26300"},
		{Platform: "windows", Version: "28000"},
		{Platform: "macos", Version: "15.8"}, {Platform: "macos", Version: "26.7.1"}, {Platform: "macos", Version: "27.0.1"},
	} {
		b, ok := tab.FindBaseline(id)
		if !ok {
			t.Errorf("%s %s has no baseline", id.Platform, id.Version)
			continue
		}
		if !b.Released.Before(day("2026-11-09")) {
			t.Errorf("%s %s baseline %s was released %s, inside the 14-day grace of the review", id.Platform, id.Version, b.Minimum, b.Released)
		}
	}
}
