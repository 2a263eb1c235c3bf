package antivirus

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

var (
	xprotectInfo  = xprotectBundles[0] + "/Contents/Info.plist"
	spArgv        = []string{systemProfilerPath, "-json", "SPInstallHistoryDataType"}
	mdatpMacArgv  = []string{"/usr/local/bin/mdatp", "health", "--output", "json"}
	xprotectMtime = date("2024-06-26T18:05:50Z")
)

// macHost is a Mac whose XProtect bundle was last written at
// xprotectMtime, with the install history plist and the software update
// preferences given by variant ("" leaves a file out).
func macHost(t *testing.T, history, softwareUpdate string) *host.Fake {
	f := host.NewFake("darwin", "arm64").
		AddStat(xprotectInfo, host.FileInfo{Name: "Info.plist", Size: 600, Mode: 0o644, ModTime: xprotectMtime}, nil).
		AddFile(xprotectInfo, td(t, "darwin/xprotect-info-plist__2193_handwritten.txt")).
		AddStat(xprotectRemediatorV2, host.FileInfo{Name: "XProtect.app", Mode: 0o755 | 1<<31}, nil)
	if history != "" {
		f.AddFile(installHistoryPath, td(t, "darwin/installhistory-plist__"+history+".txt"))
	}
	if softwareUpdate != "" {
		f.AddFile(softwareUpdatePlist, td(t, "darwin/softwareupdate-plist__"+softwareUpdate+".txt"))
	}
	return f
}

func TestCollectDarwin(t *testing.T) {
	// XProtect 2193 was installed 2024-06-26 18:05:44 UTC and software
	// update last succeeded 2024-06-27 05:31:02 UTC.
	tests := []struct {
		name string
		host *host.Fake
		now  time.Time
		want want
	}{
		{"XProtect installed 18 hours ago passes",
			macHost(t, "xprotect_handwritten", ""), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"XProtect", "definitions 17.9 h old"}}},
		{"XProtect is credited with this morning's successful update check",
			macHost(t, "xprotect_handwritten", "auto_on_handwritten"), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"current as of a check 6.5 h ago"}}},
		{"XProtect ten days old whose last check was nine days ago fails",
			macHost(t, "xprotect_handwritten", "auto_on_handwritten"), date("2024-07-06T12:00:00Z"),
			want{status: checks.StatusFail, summary: []string{"XProtect", "limit 24 h"}, remediation: "Install Security Responses and system files"}},
		{"a check does not count when automatic security data installs are off",
			macHost(t, "xprotect_handwritten", "configdata_off_handwritten"), date("2024-06-28T12:00:00Z"),
			want{status: checks.StatusFail, summary: []string{"definitions 41.9 h old"}}},
		{"without the install history plist system_profiler gives the install date",
			macHost(t, "", "").
				AddRun(spArgv, host.Output{Stdout: td(t, "darwin/system_profiler__installhistory_handwritten.txt")}, nil),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"definitions 17.9 h old"}}},
		{"without any install history the bundle's modification time is used",
			macHost(t, "", ""), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"definitions 17.9 h old"}}},
		{"Defender for Endpoint in passive mode next to current XProtect passes on XProtect",
			macHost(t, "xprotect_handwritten", "").
				AddStat("/usr/local/bin/mdatp", host.FileInfo{Name: "mdatp"}, nil).
				AddRun(mdatpMacArgv, host.Output{Stdout: td(t, "linux/mdatp__passive_handwritten.txt")}, nil),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"XProtect"}}},
		{"a Mac without XProtect fails",
			host.NewFake("darwin", "arm64"), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusFail, summary: []string{"no anti-virus product"}, remediation: "Software Update"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := check(t, tc.host, tc.now, tc.now, nil, tc.want)
			for _, p := range f.Products {
				if p.Kind == KindXProtect && (p.Caveat == "" || p.Definitions == nil || p.Definitions.Version != "2193") {
					t.Errorf("XProtect facts miss the caveat or version 2193: %+v", p)
				}
			}
		})
	}
}
