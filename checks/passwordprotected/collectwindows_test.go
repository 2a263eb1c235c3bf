package passwordprotected

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// wmiRows reads a Get-CimInstance | ConvertTo-Json capture.
func wmiRows(t *testing.T, name string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(checktest.Testdata(t, "windows", name), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// localUserRows reads a real `Get-LocalUser | ConvertTo-Json` capture and
// gives the rows Win32_UserAccount has for the same accounts: both read
// the same SAM flags (account disabled, password not required), the
// cmdlet as Enabled and a SID object, WMI as Disabled and a SID string.
func localUserRows(t *testing.T, name string) []map[string]any {
	t.Helper()
	var users []struct {
		Name             string
		Enabled          bool
		PasswordRequired bool
		SID              struct{ Value string }
	}
	if err := json.Unmarshal(checktest.Testdata(t, "windows", name), &users); err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, 0, len(users))
	for _, u := range users {
		rows = append(rows, map[string]any{"Name": u.Name, "SID": u.SID.Value, "Disabled": !u.Enabled, "PasswordRequired": u.PasswordRequired})
	}
	return rows
}

func windowsHost(t *testing.T, accounts string) *host.Fake {
	return host.NewFake("windows", "amd64").
		AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "0"}, nil).
		AddWMI(userAccountNS, userAccountQuery, wmiRows(t, accounts), nil)
}

func TestCollectWindows(t *testing.T) {
	secret := "Sup3rSecret!"
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
	}{
		{"a laptop with built-in accounts disabled passes",
			windowsHost(t, "Win32_UserAccount__win11_handwritten.json"),
			checks.StatusPass, "1 interactive account(s) with a password, 4 locked or disabled"},
		{"an enabled account that needs no password fails",
			windowsHost(t, "Win32_UserAccount__guest_enabled_handwritten.json"),
			checks.StatusFail, "without a required password: Guest"},
		{"automatic sign-in with a stored password fails",
			windowsHost(t, "Win32_UserAccount__win11_handwritten.json").
				AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "1"}, nil).
				AddRegistry(winlogonKey, "DefaultUserName", host.RegistryValue{Type: "REG_SZ", String: "kiosk"}, nil).
				AddRegistry(winlogonKey, "DefaultPassword", host.RegistryValue{Type: "REG_SZ", String: secret}, nil),
			checks.StatusFail, "winlogon signs in kiosk"},
		{"a real Windows 10 account list (only the built-in Administrator enabled, with a password) passes",
			host.NewFake("windows", "amd64").
				AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "0"}, nil).
				AddWMI(userAccountNS, userAccountQuery, localUserRows(t, "Get-LocalUser__win10_timthedevguy.json"), nil),
			checks.StatusPass, "1 interactive account(s) with a password, 4 locked or disabled"},
		{"the same real account list with its Administrator disabled too is unknown: no enabled account has a password",
			host.NewFake("windows", "amd64").
				AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "0"}, nil).
				AddWMI(userAccountNS, userAccountQuery, allDisabled(localUserRows(t, "Get-LocalUser__win10_timthedevguy.json")), nil),
			checks.StatusUnknown, "no interactive account has a password (5 locked or disabled"},
		{"the same machine with automatic sign-in but its password kept by LSA, not the registry, fails",
			host.NewFake("windows", "amd64").
				AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "1"}, nil).
				AddRegistry(winlogonKey, "DefaultUserName", host.RegistryValue{Type: "REG_SZ", String: "Administrator"}, nil).
				AddWMI(userAccountNS, userAccountQuery, localUserRows(t, "Get-LocalUser__win10_timthedevguy.json"), nil),
			checks.StatusFail, "winlogon signs in Administrator"},
		{"a missing AutoAdminLogon value is off",
			host.NewFake("windows", "amd64").AddWMI(userAccountNS, userAccountQuery, wmiRows(t, "Win32_UserAccount__win11_handwritten.json"), nil),
			checks.StatusPass, "no automatic sign-in"},
		{"access denied to WMI cannot tell",
			windowsHost(t, "Win32_UserAccount__win11_handwritten.json").
				AddWMI(userAccountNS, userAccountQuery, nil, host.Wrap(host.ErrPermission, errors.New("wmi query in root\\cimv2: powershell exited 1: Access denied"))),
			checks.StatusUnknown, "Access denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if s, _ := jsonString(f); strings.Contains(s, secret) {
				t.Error("the stored auto-logon password leaked into the facts")
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "net user") && !strings.Contains(res.Remediation, "AutoAdminLogon") {
				t.Errorf("remediation %q", res.Remediation)
			}
		})
	}
}

// allDisabled marks every account row disabled, as `net user NAME /active:no`.
func allDisabled(rows []map[string]any) []map[string]any {
	for _, r := range rows {
		r["Disabled"] = true
	}
	return rows
}
