package osdata

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed version strings, os-release and
// SystemVersion.plist files, and release tables to their parsers. For any
// input they must not panic, versions must compare consistently, and an
// identity read without error must name its platform and version source.

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func FuzzCompareVersions(f *testing.F) {
	for _, p := range [][2]string{{"19045.6332", "19045.6456"}, {"15.7.1", "15.7"}, {"24.04", "24.4"}, {"10", "10.0.0"}, {"26100", "abc"}, {"1.-2", "1"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q differs from itself", a)
		}
		if x, y := sign(CompareVersions(a, b)), sign(CompareVersions(b, a)); x != -y {
			t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, x, b, a, y)
		}
		if v, ok := ParseVersion(a); ok {
			if len(v) != strings.Count(strings.TrimSpace(a), ".")+1 {
				t.Fatalf("%q split into %v", a, v)
			}
			for _, n := range v {
				if n < 0 {
					t.Fatalf("%q has a negative part", a)
				}
			}
		}
		_ = EditionClass(a, b)
		_ = LinuxPlatform(a)
	})
}

func FuzzReadIdentity(f *testing.F) {
	checktest.AddSeeds(f, "linux", "")
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>ProductName</key><string>macOS</string><key>ProductVersion</key><string>15.7.1</string></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, h := range []host.Host{
			host.NewFake("linux", "amd64").AddFile("/etc/os-release", b),
			host.NewFake("darwin", "arm64").AddFile(SystemVersionPlist, b),
		} {
			id, err := ReadIdentity(context.Background(), h)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an error without a reason")
				}
				continue
			}
			if id.Platform == "" || id.Source == "" {
				t.Fatalf("identity %+v", id)
			}
			if h.GOOS() == "darwin" && id.Version == "" {
				t.Fatalf("a macOS identity without a version: %+v", id)
			}
			_ = id.FullVersion()
			_, _ = Default().FindRelease(id)
			_ = Default().Judge(id, nil, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
		}
	})
}

func FuzzParseTable(f *testing.F) {
	if b, err := os.ReadFile("releases.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("format: 1\nreleases:\n  - {platform: debian, version: \"12\", eol: 2026-06-10, source: \"https://www.debian.org/releases/\"}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Parse(b)
		if err != nil {
			return
		}
		if tab.Format != 1 {
			t.Fatalf("format %d accepted", tab.Format)
		}
		_ = Default().WithReleases(tab.Releases, false).WithBaselines(tab.Baselines, false)
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("2025-10-14")
	f.Add(`"2025-10-14"`)
	f.Fuzz(func(t *testing.T, s string) {
		var d Date
		if err := d.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		b, _ := d.MarshalJSON()
		var again Date
		if err := again.UnmarshalJSON(b); err != nil || !again.Equal(d.Time) {
			t.Fatalf("%q read as %s, written %s, read back %s (%v)", s, d, b, again, err)
		}
	})
}
