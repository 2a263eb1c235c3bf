package diskenc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/internal/clock"
)

var manageBDEArgv = []string{`C:\Windows\System32\manage-bde.exe`, "-status"}

func wmiFile(t *testing.T, name string) []map[string]any {
	t.Helper()
	b := bytes.TrimSpace(checktest.Testdata(t, "windows", name))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func bitlockerHost(t *testing.T, wmi, mbde string) *host.Fake {
	h := host.NewFake("windows", "amd64")
	if wmi != "" {
		h.AddWMI(bitlockerNS, bitlockerQuery, wmiFile(t, wmi), nil)
	}
	if mbde != "" {
		h.AddRun(manageBDEArgv, host.Output{Stdout: checktest.Testdata(t, "windows", mbde)}, nil)
	}
	return h
}

func collectEval(t *testing.T, goos string, h host.Host) (*Facts, checks.Result) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(facts)
	return facts.(*Facts), Evaluate(checks.EvalInput{OS: goos, Facts: b, Now: clock.Now()})
}

func TestCollectWindows(t *testing.T) {
	denied := host.Wrap(host.ErrPermission, errors.New("wmi query: powershell exited 1: Get-CimInstance : Access denied"))
	tests := []struct {
		name       string
		host       *host.Fake
		wantStates map[string]string
		wantStatus checks.Status
		wantInSum  string
		wantInFix  string
	}{
		{"OS and fixed data volumes protected pass, the removable one is not required",
			bitlockerHost(t, "wmi-encryptablevolume__protected.txt", "manage-bde__protection_on.txt"),
			map[string]string{"C:": StateEncrypted, "D:": StateEncrypted}, checks.StatusPass, "BitLocker protects", ""},
		{"a suspended OS volume fails even though it is encrypted",
			bitlockerHost(t, "wmi-encryptablevolume__os_suspended.txt", "manage-bde__protection_on.txt"),
			map[string]string{"C:": StateProtectionOff, "D:": StateEncrypted}, checks.StatusFail, "protection is off: os (C:)", "Resume protection"},
		{"a plain fixed data volume fails",
			bitlockerHost(t, "wmi-encryptablevolume__data_plain.txt", "manage-bde__protection_on.txt"),
			map[string]string{"C:": StateEncrypted, "D:": StateNotEncrypted}, checks.StatusFail, "not encrypted: data (D:)", "BitLocker"},
		{"a cached WMI 'on' is overruled by manage-bde in UTF-16",
			bitlockerHost(t, "wmi-encryptablevolume__protected.txt", "manage-bde__c_suspended_utf16.txt"),
			map[string]string{"C:": StateProtectionOff, "D:": StateEncrypted}, checks.StatusFail, "protection is off: os (C:)", "manage-bde -protectors -enable C:"},
		{"WMI access denied falls back to German manage-bde in the console code page",
			bitlockerHost(t, "", "manage-bde__german_suspended_cp850_handwritten.txt").AddWMI(bitlockerNS, bitlockerQuery, nil, denied),
			map[string]string{"C:": StateProtectionOff}, checks.StatusFail, "protection is off", "Resume"},
		{"WMI access denied and a real German manage-bde of a decrypted C: fails",
			bitlockerHost(t, "", "manage-bde__de_decrypted_bnachtwey.txt").AddWMI(bitlockerNS, bitlockerQuery, nil, denied),
			map[string]string{"C:": StateNotEncrypted}, checks.StatusFail, "not encrypted", "BitLocker"},
		{"WMI access denied and a real German manage-bde at 3.5 percent says encryption is not finished",
			bitlockerHost(t, "", "manage-bde__de_encrypting_3pct_bnachtwey.txt").AddWMI(bitlockerNS, bitlockerQuery, nil, denied),
			map[string]string{"C:": StateEncrypting}, checks.StatusFail, "not finished", ""},
		{"WMI's encryption in progress beside a real manage-bde at 100 percent with protection on passes (manage-bde is live)",
			bitlockerHost(t, "wmi-encryptablevolume__os_encrypting.txt", "manage-bde__de_encrypting_100pct_protection_on_bnachtwey.txt"),
			map[string]string{"C:": StateEncrypted}, checks.StatusPass, "BitLocker protects", ""},
		{"WMI's fully encrypted beside a real manage-bde at 3.5 percent is still encrypting (manage-bde is live)",
			bitlockerHost(t, "wmi-encryptablevolume__protected.txt", "manage-bde__de_encrypting_3pct_bnachtwey.txt"),
			map[string]string{"C:": StateEncrypting, "D:": StateEncrypted}, checks.StatusFail, "not finished", ""},
		{"zero WMI rows are no answer: manage-bde decides",
			bitlockerHost(t, "", "manage-bde__de_encrypting_3pct_bnachtwey.txt").AddWMI(bitlockerNS, bitlockerQuery, []map[string]any{}, nil),
			map[string]string{"C:": StateEncrypting}, checks.StatusFail, "not finished", ""},
		{"WMI missing and manage-bde alone pass",
			bitlockerHost(t, "", "manage-bde__protection_on.txt"),
			map[string]string{"C:": StateEncrypted, "D:": StateEncrypted}, checks.StatusPass, "BitLocker protects", ""},
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
			if !strings.Contains(res.Remediation, tc.wantInFix) {
				t.Errorf("remediation %q does not mention %q", res.Remediation, tc.wantInFix)
			}
		})
	}
	t.Run("no administrator rights for either source says so", func(t *testing.T) {
		h := host.NewFake("windows", "amd64").
			AddWMI(bitlockerNS, bitlockerQuery, nil, denied).
			AddRun(manageBDEArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "manage-bde__not_admin_handwritten.txt"), ExitCode: -1}, nil)
		_, err := Collect(context.Background(), h)
		if err == nil || !strings.Contains(err.Error(), "manage-bde needs an administrator: ERROR: An attempt to access a required resource was denied.") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestParseManageBDE(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	b := func(x bool) *bool { return &x }
	tests := []struct {
		file string
		want []mbdeVolume
	}{
		{"manage-bde__protection_on.txt", []mbdeVolume{
			{letter: "C:", protected: b(true), percent: f(100), rawStatus: "Protection On"},
			{letter: "D:", protected: b(true), percent: f(100), rawStatus: "Protection On"},
		}},
		{"manage-bde__c_suspended_utf16.txt", []mbdeVolume{
			{letter: "C:", protected: b(false), percent: f(100), rawStatus: "Protection Off"},
			{letter: "D:", protected: b(true), percent: f(100), rawStatus: "Protection On"},
		}},
		{"manage-bde__german_suspended_cp850_handwritten.txt", []mbdeVolume{
			{letter: "C:", protected: b(false), percent: f(100), rawStatus: "Der Schutz ist deaktiviert."},
		}},
		{"manage-bde__not_admin_handwritten.txt", nil},
		// Real captures (testdata/README.md): German labels, a quoted
		// drive letter and decimal commas; an empty volume label.
		{"manage-bde__de_decrypted_bnachtwey.txt", []mbdeVolume{
			{letter: "C:", protected: b(false), percent: f(0), rawStatus: "Der Schutz ist deaktiviert."},
		}},
		{"manage-bde__de_encrypting_3pct_bnachtwey.txt", []mbdeVolume{
			{letter: "C:", protected: b(false), percent: f(3.5), rawStatus: "Der Schutz ist deaktiviert."},
		}},
		{"manage-bde__de_encrypting_100pct_protection_on_bnachtwey.txt", []mbdeVolume{
			{letter: "C:", protected: b(true), percent: f(100), rawStatus: "Der Schutz ist aktiviert."},
		}},
		{"manage-bde__server2019_data_volume_expresscluster.txt", []mbdeVolume{
			{letter: "M:", protected: b(true), percent: f(100), rawStatus: "Protection On"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := parseManageBDE(checktest.Testdata(t, "windows", tc.file))
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(mbdeVolume{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
