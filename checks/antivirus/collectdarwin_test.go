package antivirus

import (
	"errors"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
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
		AddFile(xprotectInfo, checktest.Testdata(t, "darwin/xprotect-info-plist__2193_handwritten.txt")).
		AddStat(xprotectRemediatorV2, host.FileInfo{Name: "XProtect.app", Mode: 0o755 | 1<<31}, nil)
	if history != "" {
		f.AddFile(installHistoryPath, checktest.Testdata(t, "darwin/installhistory-plist__"+history+".txt"))
	}
	if softwareUpdate != "" {
		f.AddFile(softwareUpdatePlist, checktest.Testdata(t, "darwin/softwareupdate-plist__"+softwareUpdate+".txt"))
	}
	return f
}

// sophosMac is a Mac with only Sophos Endpoint, its on-access preference
// given by variant and its last update at 2024-06-27 09:14:31 UTC.
func sophosMac(t *testing.T, variant string) *host.Fake {
	return host.NewFake("darwin", "arm64").
		AddStat(sophosPaths["darwin"][1], host.FileInfo{Name: "Sophos Endpoint.app", Mode: 0o755 | 1<<31}, nil).
		AddFile(sophosMacSAVPrefs, checktest.Testdata(t, "darwin/sophos-sav-plist__"+variant+"_handwritten.txt")).
		AddFile(sophosMacAutoUpd, checktest.Testdata(t, "darwin/sophos-autoupdate-plist__handwritten.txt"))
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
				AddRun(spArgv, host.Output{Stdout: checktest.Testdata(t, "darwin/system_profiler__installhistory_handwritten.txt")}, nil),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"definitions 17.9 h old"}}},
		{"without any install history the bundle's modification time is used",
			macHost(t, "", ""), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"definitions 17.9 h old"}}},
		{"Defender for Endpoint in passive mode next to current XProtect passes on XProtect",
			macHost(t, "xprotect_handwritten", "").
				AddStat("/usr/local/bin/mdatp", host.FileInfo{Name: "mdatp"}, nil).
				AddRun(mdatpMacArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp__passive_handwritten.txt")}, nil),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"XProtect"}}},
		{"Sophos Endpoint scanning on access and updated 2.8 hours ago passes",
			sophosMac(t, "onaccess_1"), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"Sophos Endpoint", "real-time scanning on", "current as of a check 2.8 h ago"}}},
		{"Sophos Endpoint with real-time scanning off fails",
			sophosMac(t, "onaccess_0"), date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusFail, summary: []string{"Sophos Endpoint: real-time scanning is off"}, remediation: "real-time scanning on"}},
		{"Sophos Endpoint without an AutoUpdate time is judged by its data's release day and fails at 36 hours",
			host.NewFake("darwin", "arm64").
				AddStat(sophosPaths["darwin"][1], host.FileInfo{Name: "Sophos Endpoint.app", Mode: 0o755 | 1<<31}, nil).
				AddFile(sophosMacSAVPrefs, checktest.Testdata(t, "darwin/sophos-sav-plist__onaccess_1_handwritten.txt")),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusFail, summary: []string{"definitions 36 h old (limit 24 h)"}, remediation: "Sophos Central"}},
		{"Sophos Endpoint whose preferences the agent may not read is unknown with the reason",
			host.NewFake("darwin", "arm64").
				AddStat(sophosPaths["darwin"][1], host.FileInfo{Name: "Sophos Endpoint.app", Mode: 0o755 | 1<<31}, nil).
				AddFileError(sophosMacSAVPrefs, host.Wrap(host.ErrPermission, errors.New("open "+sophosMacSAVPrefs+": operation not permitted"))).
				AddFile(sophosMacAutoUpd, checktest.Testdata(t, "darwin/sophos-autoupdate-plist__handwritten.txt")),
			date("2024-06-27T12:00:00Z"),
			want{status: checks.StatusUnknown, summary: []string{"com.sophos.sav.plist: permission denied"}}},
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
