package antivirus

import (
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// catalinaMac is a macOS 10.15 Mac whose XProtect bundle was last written
// at bundleMtime (no Info.plist content, so the version comes from the
// install history) with a real InstallHistory.plist (see
// testdata/README.md).
func catalinaMac(t *testing.T, history string, bundleMtime time.Time) *host.Fake {
	return host.NewFake("darwin", "amd64").
		AddStat(xprotectInfo, host.FileInfo{Name: "Info.plist", Size: 600, Mode: 0o644, ModTime: bundleMtime}, nil).
		AddFile(xprotectInfo, checktest.Testdata(t, "darwin/xprotect-info-plist__2193_handwritten.txt")).
		AddFile(installHistoryPath, checktest.Testdata(t, "darwin/installhistory-plist__"+history+".txt"))
}

func TestCollectDarwinRealInstallHistory(t *testing.T) {
	// The real history installed XProtectPlistConfigData 2106 on
	// 2019-10-07 20:09:37 UTC; the bundle is older than that.
	osInstalled := date("2019-09-30T20:36:29Z")
	tests := []struct {
		name        string
		host        *host.Fake
		now         time.Time
		want        want
		wantVersion string
		wantSource  string
	}{
		{"XProtect 2106 installed 11.8 hours before passes",
			catalinaMac(t, "xprotect2106_catalina_chef", osInstalled), date("2019-10-08T08:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"XProtect", "definitions 11.8 h old"}},
			"2106", installHistoryPath + " XProtectPlistConfigData"},
		{"the same XProtect three days later fails",
			catalinaMac(t, "xprotect2106_catalina_chef", osInstalled), date("2019-10-10T20:09:37Z"),
			want{status: checks.StatusFail, summary: []string{"XProtect", "definitions 72 h old", "limit 24 h"}, remediation: "Software Update"},
			"2106", installHistoryPath + " XProtectPlistConfigData"},
		{"a history without an XProtect entry falls back to the bundle's modification time",
			catalinaMac(t, "no_xprotect_catalina_chef", osInstalled), date("2019-10-01T08:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"XProtect", "definitions 11.4 h old"}},
			"2193", "modification time of " + xprotectInfo},
		{"an empty Info.plist's modification time dates nothing",
			catalinaMac(t, "no_xprotect_catalina_chef", osInstalled).AddFile(xprotectInfo, []byte{}), date("2019-10-01T08:00:00Z"),
			want{status: checks.StatusUnknown, summary: []string{"XProtect", "age could not be read"}},
			"", "no readable XProtect Info.plist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := check(t, tc.host, tc.now, tc.now, nil, tc.want)
			var xp *Product
			for i := range f.Products {
				if f.Products[i].Kind == KindXProtect {
					xp = &f.Products[i]
				}
			}
			if xp == nil || xp.Definitions == nil {
				t.Fatalf("no XProtect definitions in %+v", f.Products)
			}
			if xp.Definitions.Version != tc.wantVersion || !strings.HasPrefix(xp.Definitions.Source, tc.wantSource) {
				t.Errorf("definitions %q from %q, want %q from %q", xp.Definitions.Version, xp.Definitions.Source, tc.wantVersion, tc.wantSource)
			}
		})
	}
}
