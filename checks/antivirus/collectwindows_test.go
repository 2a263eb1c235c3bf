package antivirus

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var winNow = date("2024-06-27T12:00:00Z")

const contosoExe = `C:\Program Files\Contoso\Endpoint\ces.exe`

// winHost answers the two WMI queries every Windows collection makes.
func winHost(t *testing.T, mpStatus, avProduct string) *host.Fake {
	f := host.NewFake("windows", "amd64")
	if mpStatus != "" {
		f.AddWMI(defenderNS, defenderQuery, wmiRows(t, "windows/wmi-mpcomputerstatus__"+mpStatus+".txt"), nil)
	}
	if avProduct != "" {
		f.AddWMI(securityCenterNS, securityCenterQ, wmiRows(t, "windows/wmi-antivirusproduct__"+avProduct+".txt"), nil)
	}
	return f
}

func accessDenied(t *testing.T) error {
	return host.Wrap(host.ErrPermission, errors.New("wmi query: powershell exited 1: "+firstLine(checktest.Testdata(t, "windows/powershell__access_denied_stderr.txt"))))
}

func TestCollectWindows(t *testing.T) {
	tests := []struct {
		name string
		host *host.Fake
		want want
	}{
		{"Defender in normal mode with six-hour-old signatures passes",
			winHost(t, "normal", "defender_on"),
			want{status: checks.StatusPass, summary: []string{"Microsoft Defender Antivirus", "mode Normal", "definitions 6 h old"}}},
		{"Defender in passive mode fails although it reports real-time protection on",
			winHost(t, "passive_realtime_on", "thirdparty_defender_off").
				AddStat(contosoExe, host.FileInfo{}, host.Wrap(host.ErrNotFound, errors.New("GetFileAttributesEx: The system cannot find the file specified."))),
			want{status: checks.StatusFail, summary: []string{"Passive Mode, which does not block threats"}, remediation: "passive mode"}},
		{"Defender passive next to a running third-party product passes on that product",
			winHost(t, "passive_realtime_on", "thirdparty_defender_off").
				AddStat(contosoExe, host.FileInfo{Name: "ces.exe"}, nil),
			want{status: checks.StatusPass, summary: []string{"Contoso Endpoint Security", "up to date without a time"}}},
		{"a third-party Security Center entry whose program is gone is stale and fails",
			winHost(t, "", "thirdparty_defender_off"),
			want{status: checks.StatusFail, summary: []string{"Security Center entry is stale"}}},
		{"a third-party product reporting out-of-date definitions fails",
			winHost(t, "", "thirdparty_outdated").
				AddStat(contosoExe, host.FileInfo{Name: "ces.exe"}, nil),
			want{status: checks.StatusFail, summary: []string{"definitions out of date"}, remediation: "Contoso Endpoint Security"}},
		{"Defender with week-old signatures fails",
			winHost(t, "old_signatures", "defender_on"),
			want{status: checks.StatusFail, summary: []string{"definitions 174 h old (limit 24 h)"}, remediation: "Check for updates"}},
		{"Defender with real-time off and no scheduled scan fails",
			winHost(t, "realtime_off", "defender_on").
				AddWMI(defenderNS, defenderPrefQ, wmiRows(t, "windows/wmi-mppreference__never.txt"), nil),
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning"}, remediation: "Real-time protection on"}},
		{"Defender with real-time off but a daily scheduled scan passes",
			winHost(t, "realtime_off", "defender_on").
				AddWMI(defenderNS, defenderPrefQ, wmiRows(t, "windows/wmi-mppreference__everyday.txt"), nil),
			want{status: checks.StatusPass, summary: []string{"scheduled scanning on"}}},
		{"PowerShell 7 dates and no running mode fall back to Security Center's state",
			winHost(t, "ps7_no_running_mode_handwritten", "defender_on"),
			want{status: checks.StatusPass, summary: []string{"Security Center state on", "definitions 6 h old"}}},
		{"Defender's WMI denied falls back to the registry and Security Center",
			winHost(t, "", "defender_on").
				AddWMI(defenderNS, defenderQuery, nil, accessDenied(t)).
				AddRegistry(defenderSigKey, "SignaturesLastUpdated", host.RegistryValue{Type: "REG_BINARY", Binary: filetimeBytes(date("2024-06-27T06:00:00Z"))}, nil).
				AddRegistry(defenderSigKey, "AVSignatureVersion", host.RegistryValue{Type: "REG_SZ", String: "1.413.257.0"}, nil),
			want{status: checks.StatusPass, summary: []string{"definitions 6 h old"}}},
		{"every source denied is unknown and says access was denied",
			host.NewFake("windows", "amd64").
				AddWMI(defenderNS, defenderQuery, nil, accessDenied(t)).
				AddWMI(securityCenterNS, securityCenterQ, nil, accessDenied(t)),
			want{status: checks.StatusUnknown, summary: []string{"access denied"}}},
		{"Windows Server without Security Center or Defender fails",
			host.NewFake("windows", "amd64").
				AddWMI(defenderNS, defenderQuery, nil, host.Wrap(host.ErrNotFound, errors.New("Invalid namespace"))).
				AddWMI(securityCenterNS, securityCenterQ, nil, host.Wrap(host.ErrNotFound, errors.New("Invalid namespace"))),
			want{status: checks.StatusFail, summary: []string{"no anti-virus product"}, remediation: "Windows Security"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.host, winNow, winNow, nil, tc.want)
		})
	}
	// A real Windows 10 1607 row (no AMRunningMode yet), evaluated when
	// it was collected: its signatures were 29 days old.
	t.Run("a real 1607 Defender with month-old signatures fails, its mode from Security Center", func(t *testing.T) {
		collected := date("2017-09-14T07:07:39Z")
		f := check(t, winHost(t, "realmjoin_1607", "defender_on"), collected, collected, nil,
			want{status: checks.StatusFail, summary: []string{"definitions 712.5 h old (limit 24 h)"}, remediation: "Check for updates"})
		if m := f.Products[0].Mode; m == nil || m.Name != "Security Center state on" || !m.Protecting {
			t.Errorf("mode = %+v, want Security Center state on", m)
		}
	})
}

// psList reads PowerShell's Format-List output ("Name : Value" lines) into
// a row of strings, the shape a row takes when every value is text.
func psList(b []byte) map[string]any {
	row := map[string]any{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if k, v = strings.TrimSpace(k), strings.TrimSpace(v); ok && v != "" {
			row[k] = v
		}
	}
	return row
}

// TestDefenderFieldMappingFromTheDocsListing maps the fields of the real
// Get-MpComputerStatus listing in Microsoft's documentation. The collector
// reads JSON; the listing checks the property names and that a localized
// date is refused for the whole-day AntivirusSignatureAge.
func TestDefenderFieldMappingFromTheDocsListing(t *testing.T) {
	p := defenderFromWMI(psList(checktest.Testdata(t, "windows/get-mpcomputerstatus-list__docs_2013.txt")), nil)
	zero, day := int64(0), int64(24*60)
	want := &Product{
		Kind: KindDefender, Name: defenderName, FoundBy: defenderNS + " " + sourceMpStatus,
		Running:     flag(true, "MSFT_MpComputerStatus AMServiceEnabled=true AntivirusEnabled=true"),
		RealTime:    flag(true, "MSFT_MpComputerStatus RealTimeProtectionEnabled"),
		Definitions: &Definitions{AgeMinutes: &zero, AgeResolutionMinutes: &day, Version: "1.155.1107.0", Source: "MSFT_MpComputerStatus AntivirusSignatureAge (whole days)"},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func filetimeBytes(t interface{ UnixNano() int64 }) []byte {
	ticks := uint64(t.UnixNano()/100) + 116444736000000000
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(ticks >> (8 * i))
	}
	return b
}
