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
