package ospatched

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

// qfeTableRows reads `wmic qfe list` (a fixed-width table) into the
// Win32_QuickFixEngineering rows the collector asks for, HotFixID and
// InstalledOn, cutting each line at the header's column starts. The real
// capture was published as this table; the collector reads WMI rows.
func qfeTableRows(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	header := lines[0]
	col := func(name string) (int, int) {
		i := strings.Index(header, name)
		if i < 0 {
			t.Fatalf("no %s column in %q", name, header)
		}
		end := len(header)
		if j := strings.IndexFunc(header[i+len(name):], func(r rune) bool { return r != ' ' }); j >= 0 {
			end = i + len(name) + j
		}
		return i, end
	}
	cut := func(line string, from, to int) string {
		if from >= len(line) {
			return ""
		}
		return strings.TrimSpace(line[from:min(to, len(line))])
	}
	idFrom, idTo := col("HotFixID")
	onFrom, onTo := col("InstalledOn")
	var rows []map[string]any
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		rows = append(rows, map[string]any{"HotFixID": cut(l, idFrom, idTo), "InstalledOn": cut(l, onFrom, onTo)})
	}
	return rows
}

// TestWindowsHotfixFallbackWithARealQFEList replays a real hotfix list of
// a Windows Server 2019 image with April 2019's updates (installed
// 4/12/2019) when the Windows Update Agent cannot be asked. The build and
// UBR (17763.437, the build KB4493509 brings) are hand-written: the thread
// does not print them.
func TestWindowsHotfixFallbackWithARealQFEList(t *testing.T) {
	rows := qfeTableRows(t, checktest.Testdata(t, "windows", "wmic-qfe-list__gke_2019_k8s76666.txt"))
	if len(rows) != 4 || rows[3]["HotFixID"] != "KB4493509" || rows[3]["InstalledOn"] != "4/12/2019" {
		t.Fatalf("rows = %v", rows)
	}
	th := DefaultThresholds().(*Thresholds)
	th.ReplaceBaselines = true
	th.Baselines = osdata.Baselines{{Platform: "windows", Version: "17763", Minimum: "17763.437", Released: osdata.Date{Time: time.Date(2019, 4, 9, 0, 0, 0, 0, time.UTC)}, Name: "April 2019 security update (KB4493509)", Source: "https://support.microsoft.com/help/4493509"}}
	server2019 := func() *host.Fake {
		reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
		ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
		return host.NewFake("windows", "amd64").
			AddRegistry(osdata.WindowsCurrentVersion, "CurrentBuildNumber", reg("17763"), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "UBR", host.RegistryValue{Type: "REG_DWORD", Integer: 437}, nil).
			AddRegistry(osdata.WindowsCurrentVersion, "EditionID", reg("ServerDatacenter"), nil).
			AddRegistry(osdata.WindowsCurrentVersion, "SystemRoot", reg(`C:\Windows`), nil).
			AddWMI(`root\cimv2`, qfeQuery, rows, nil).
			AddRun([]string{ps, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", psEncoded(wuaScript)},
				host.Output{Stderr: []byte("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))\r\n"), ExitCode: 1}, nil)
	}
	for _, tc := range []struct {
		name      string
		now       time.Time
		want      checks.Status
		wantInSum string
	}{
		{"on the day the list was posted the April updates are 36 days old and pass on the baseline", time.Date(2019, 5, 18, 12, 0, 0, 0, time.UTC), checks.StatusPass, "last update installed 36 days ago"},
		{"two months later nothing newer is installed and, without the update agent, it cannot tell", time.Date(2019, 6, 20, 12, 0, 0, 0, time.UTC), checks.StatusUnknown, "older than 45 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			facts, err := Collect(context.Background(), server2019())
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(facts)
			if err != nil {
				t.Fatal(err)
			}
			var f Facts
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			if f.LastPatch == nil || !strings.Contains(f.LastPatch.Source, "KB4486553") {
				t.Errorf("last patch = %+v, want the first of the 4/12/2019 hotfixes", f.LastPatch)
			}
			res := Evaluate(checks.EvalInput{OS: "windows", Facts: b, Thresholds: th, Now: tc.now})
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("got %s %q, want %s mentioning %q\nfacts %s", res.Status, res.Summary, tc.want, tc.wantInSum, b)
			}
		})
	}
}
