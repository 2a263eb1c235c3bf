package diskenc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// getWmiObjectRows reads Mondoo's fixture (testdata/README.md): one object
// per volume whose "volume" member is a Win32_EncryptableVolume row as
// PowerShell 7 serializes Get-WmiObject (with __GENUS, __PATH and the
// System.Management members). The rows are taken out as the host would
// answer them; the file is kept as published.
func getWmiObjectRows(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(checktest.Testdata(t, "windows", name)))
	dec.UseNumber()
	var items []struct {
		Volume map[string]any `json:"volume"`
	}
	if err := dec.Decode(&items); err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, 0, len(items))
	for _, it := range items {
		rows = append(rows, it.Volume)
	}
	return rows
}

func TestCollectWindowsGetWmiObjectRows(t *testing.T) {
	const mondoo = "wmi-encryptablevolume__getwmiobject_c_protected_mondoo.txt"
	withRows := func() *host.Fake {
		return host.NewFake("windows", "amd64").AddWMI(bitlockerNS, bitlockerQuery, getWmiObjectRows(t, mondoo), nil)
	}
	tests := []struct {
		name       string
		host       *host.Fake
		wantStates map[string]string
		wantStatus checks.Status
		wantInSum  string
		wantNote   string
	}{
		{"a protected C: passes, the removable E: is not required, and missing manage-bde is noted",
			withRows(),
			map[string]string{"C:": StateEncrypted}, checks.StatusPass, "BitLocker protects", "manage-bde.exe is not installed"},
		{"manage-bde reporting C: protection off overrules the same rows",
			withRows().AddRun(manageBDEArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "manage-bde__c_suspended_utf16.txt")}, nil),
			map[string]string{"C:": StateProtectionOff}, checks.StatusFail, "protection is off: os (C:)", "removable volume E: not required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, res := collectEval(t, "windows", tc.host)
			got := map[string]string{}
			for _, v := range f.Volumes {
				got[v.MountPoint] = v.State
			}
			if diff := cmp.Diff(tc.wantStates, got); diff != "" {
				t.Errorf("volume states (-want +got):\n%s", diff)
			}
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q", res.Status, res.Summary, tc.wantStatus, tc.wantInSum)
			}
			if !strings.Contains(strings.Join(f.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes %q do not mention %q", f.Notes, tc.wantNote)
			}
			if f.Volumes[0].Encryption != "XTS-AES-128" {
				t.Errorf("C: encryption = %q, want XTS-AES-128 (EncryptionMethod 6)", f.Volumes[0].Encryption)
			}
		})
	}
}
