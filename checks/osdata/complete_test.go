package osdata

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// windowsClientBuilds is every Windows 10 and 11 feature update Microsoft
// shipped, in release order (learn.microsoft.com/windows/release-health:
// Windows 10 and Windows 11 release information). The table must list
// each one, so an old build is judged instead of "not in the table".
var windowsClientBuilds = []string{
	"10240", "10586", "14393", "15063", "16299", "17134", "17763", "18362", "18363",
	"19041", "19042", "19043", "19044", "19045", // Windows 10 1507 .. 22H2
	"22000", "22621", "22631", "26100", "26200", "28000", "26300", // Windows 11 21H2 .. 26H2
}

// TestEveryReleaseBetweenTheOldestAndNewestIsListed asserts that the
// end-of-life table has no gaps: each vendor's releases from the oldest to
// the newest listed are all there, so an old release fails instead of
// being unknown.
func TestEveryReleaseBetweenTheOldestAndNewestIsListed(t *testing.T) {
	tab := Default()
	versions := func(platform string) []string {
		var vs []string
		for _, r := range tab.Releases {
			if r.Platform == platform && !slices.Contains(vs, r.Version) {
				vs = append(vs, r.Version)
			}
		}
		slices.SortFunc(vs, CompareVersions)
		return vs
	}
	t.Run("every Windows client build is listed for home and enterprise editions", func(t *testing.T) {
		for _, b := range windowsClientBuilds {
			for _, ed := range []string{"Core", "Professional", "Enterprise", "Education"} {
				id := Identity{Platform: "windows", Version: b, Edition: ed, InstallationType: "Client"}
				if _, ok := tab.FindRelease(id); !ok {
					t.Errorf("Windows build %s %s is not in the table", b, ed)
				}
			}
		}
		for _, r := range tab.Releases {
			if r.Platform == "windows" && !slices.Contains(r.Editions, "server") && !slices.Contains(windowsClientBuilds, r.Version) {
				t.Errorf("table lists Windows build %s (%s) that this test does not know: add it to windowsClientBuilds", r.Version, r.Name)
			}
		}
	})
	t.Run("every macOS from 10.13 is listed", func(t *testing.T) {
		want := []string{"10.13", "10.14", "10.15"}
		vs := versions("macos")
		newest, _ := strconv.Atoi(vs[len(vs)-1])
		for m := 11; m <= newest; m++ {
			if m > 15 && m < 26 { // macOS 15 was followed by 26 (year numbering, 2025)
				continue
			}
			want = append(want, strconv.Itoa(m))
		}
		if d := diffList(want, vs); d != "" {
			t.Error(d)
		}
	})
	t.Run("every Ubuntu release, LTS and interim, is listed", func(t *testing.T) {
		vs := versions("ubuntu")
		first, last := ubuntuIndex(t, vs[0]), ubuntuIndex(t, vs[len(vs)-1])
		var want []string
		for i := first; i <= last; i++ {
			month := "04"
			if i%2 == 1 {
				month = "10"
			}
			want = append(want, fmt.Sprintf("%d.%s", i/2, month))
		}
		if d := diffList(want, vs); d != "" {
			t.Error(d)
		}
	})
	for _, p := range []string{"debian", "fedora", "rhel", "centos", "rocky", "almalinux"} {
		t.Run("every "+p+" major release is listed", func(t *testing.T) {
			vs := versions(p)
			lo, _ := strconv.Atoi(vs[0])
			hi, _ := strconv.Atoi(vs[len(vs)-1])
			var want []string
			for v := lo; v <= hi; v++ {
				want = append(want, strconv.Itoa(v))
			}
			if d := diffList(want, vs); d != "" {
				t.Error(d)
			}
		})
	}
}

// ubuntuIndex numbers Ubuntu releases twice a year: 2*YY for YY.04,
// 2*YY+1 for YY.10.
func ubuntuIndex(t *testing.T, v string) int {
	yy, mm, _ := strings.Cut(v, ".")
	y, err := strconv.Atoi(yy)
	if err != nil || (mm != "04" && mm != "10") {
		t.Fatalf("Ubuntu version %q is not YY.04 or YY.10", v)
	}
	if mm == "10" {
		return 2*y + 1
	}
	return 2 * y
}

func diffList(want, got []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("missing %v, unexpected %v", missing, extra)
}

// TestOldReleasesFail pins the releases added for issue 11: each is out
// of support and judged so, not unknown.
func TestOldReleasesFail(t *testing.T) {
	win := func(build, edition string) Identity {
		return Identity{Platform: "windows", Version: build, Edition: edition, InstallationType: "Client"}
	}
	mac := func(v string) Identity { return Identity{Platform: "macos", Version: v} }
	tests := []struct {
		name    string
		id      Identity
		now     string
		want    string
		wantEOL string
	}{
		{"Windows 10 21H1 ended in December 2022", win("19043", "Professional"), "2026-11-23", StateEOL, "2022-12-13"},
		{"Windows 10 21H1 was supported on its last Patch Tuesday", win("19043", "Enterprise"), "2022-12-13", StateSupported, "2022-12-13"},
		{"Windows 10 21H1 of an edition the table does not name still ends", win("19043", "Wine"), "2026-11-23", StateEOL, "2022-12-13"},
		{"Windows 10 1909 Enterprise got 30 months", win("18363", "Enterprise"), "2022-05-10", StateSupported, "2022-05-10"},
		{"Windows 10 1909 Home got 18 months", win("18363", "Core"), "2022-05-10", StateEOL, "2021-05-11"},
		{"Windows 10 1507 ended in 2017", win("10240", "Professional"), "2026-11-23", StateEOL, "2017-05-09"},
		{"Windows 10 LTSB 2015 is not taken for 1507", win("10240", "EnterpriseS"), "2025-10-14", StateSupported, "2025-10-14"},
		{"Windows 10 LTSB 2016 is not taken for 1607", win("14393", "EnterpriseS"), "2026-01-01", StateSupported, "2026-10-13"},
		{"macOS Catalina is out of support", mac("10.15.7"), "2026-11-23", StateEOL, "2022-10-24"},
		{"macOS High Sierra is out of support", mac("10.13.6"), "2026-11-23", StateEOL, "2020-11-12"},
		{"macOS Sierra is older than every listed release", mac("10.12.6"), "2026-11-23", StateEOL, ""},
		{"Ubuntu 23.10 ended in July 2024", Identity{Platform: "ubuntu", Version: "23.10"}, "2026-11-23", StateEOL, "2024-07-11"},
		{"Ubuntu 19.04 ended in January 2020", Identity{Platform: "ubuntu", Version: "19.04"}, "2026-11-23", StateEOL, "2020-01-23"},
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
