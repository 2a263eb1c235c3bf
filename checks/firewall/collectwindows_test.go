package firewall

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

// wmiFile decodes a sample as the live host does: one object or an array.
func wmiFile(t *testing.T, name string) []map[string]any {
	t.Helper()
	b := bytes.TrimSpace(checktest.Testdata(t, "windows", name))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if b[0] == '{' {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatal(err)
		}
		return []map[string]any{row}
	}
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func dword(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }

// winHost is a Windows machine whose local firewall store holds enabled
// (Domain, Private, Public) and whose WMI answers from the named samples.
func winHost(t *testing.T, enabled [3]uint64, profiles, conn, service string) *host.Fake {
	h := host.NewFake("windows", "amd64")
	for i, pk := range profileKeys {
		h.AddRegistry(localKey+pk.local, "EnableFirewall", dword(enabled[i]), nil)
	}
	h.AddRegistry(mpssvcKey, "Start", dword(2), nil)
	if profiles != "" {
		h.AddWMI(standardCimv2, fwProfileQuery, wmiFile(t, profiles), nil)
	}
	if conn != "" {
		h.AddWMI(standardCimv2, connProfileQuery, wmiFile(t, conn), nil)
	}
	if service != "" {
		h.AddWMI(cimv2, serviceQuery, wmiFile(t, service), nil)
	}
	return h
}

func TestCollectWindows(t *testing.T) {
	denied := host.Wrap(host.ErrPermission, errors.New("wmi query: powershell exited 1: "+firstLine(checktest.Testdata(t, "windows", "powershell__access_denied_stderr.txt"))))
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInSum  string
	}{
		{"every profile on passes", winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__all_on.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusPass, "Public profile"},
		{"the active Public profile off fails", winHost(t, [3]uint64{1, 1, 0}, "wmi-netfirewallprofile__public_off.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusFail, "off for the Public profile"},
		{"an inactive Public profile off passes while on a private and a domain network",
			winHost(t, [3]uint64{1, 1, 0}, "wmi-netfirewallprofile__public_off.txt", "wmi-netconnectionprofile__private_and_domain.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusPass, "Private, Domain profile"},
		{"with active profiles unknown every profile counts", winHost(t, [3]uint64{1, 1, 0}, "wmi-netfirewallprofile__public_off.txt", "", "wmi-service__mpssvc_running.txt"),
			checks.StatusFail, "off for the Public profile"},
		{"group policy turning a profile off wins over the local setting",
			winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__all_on.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(policyKey+"PublicProfile", "EnableFirewall", dword(0), nil),
			checks.StatusFail, "off for the Public profile"},
		{"group policy turning a profile on wins over the local setting",
			winHost(t, [3]uint64{1, 1, 0}, "wmi-netfirewallprofile__public_off.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(policyKey+"PublicProfile", "EnableFirewall", dword(1), nil),
			checks.StatusPass, "Public profile"},
		{"allowing inbound connections by default fails",
			winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__private_allow_inbound.txt", "wmi-netconnectionprofile__private_and_domain.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(localKey+"StandardProfile", "DefaultInboundAction", dword(0), nil),
			checks.StatusFail, "allows unsolicited inbound connections on the Private profile"},
		{"the Public profile on but turned off for the Wi-Fi interface fails, naming it",
			winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__public_wifi_excluded.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusFail, "turned off for some interfaces of the Public (Wi-Fi, vEthernet (Default Switch)) profile"},
		{"interfaces excluded from an inactive profile do not matter",
			winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__public_wifi_excluded.txt", "wmi-netconnectionprofile__private_and_domain.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusPass, "Private, Domain profile"},
		{"a stopped firewall service fails", winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__all_on.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_stopped.txt"),
			checks.StatusFail, "mpssvc"},
		{"WMI access denied still decides from the registry",
			winHost(t, [3]uint64{1, 1, 1}, "", "", "").
				AddWMI(standardCimv2, fwProfileQuery, nil, denied).
				AddWMI(standardCimv2, connProfileQuery, nil, denied),
			checks.StatusPass, "Domain, Private, Public profile"},
		{"registry and WMI disagreeing cannot tell",
			winHost(t, [3]uint64{1, 1, 1}, "wmi-netfirewallprofile__public_off.txt", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusUnknown, "disagree"},
		{"Windows Firewall off with a working third-party firewall passes with a caveat",
			winHost(t, [3]uint64{0, 0, 0}, "", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt").
				AddWMI(securityCenter, fwProductQuery, wmiFile(t, "wmi-firewallproduct__thirdparty_on.txt"), nil).
				AddStat(`C:\Program Files\ESET\ESET Security\ecmds.exe`, host.FileInfo{Name: "ecmds.exe", Size: 1}, nil),
			checks.StatusPass, "ESET Firewall reports itself on"},
		{"a stale third-party entry whose program is gone does not count",
			winHost(t, [3]uint64{0, 0, 0}, "", "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt").
				AddWMI(securityCenter, fwProductQuery, wmiFile(t, "wmi-firewallproduct__thirdparty_on.txt"), nil),
			checks.StatusFail, "off for the Public profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := collectAndEvaluate(t, "windows", tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q; evidence %v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, res.Evidence)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "Windows") {
				t.Errorf("remediation %q is not for Windows", res.Remediation)
			}
		})
	}
}

func collectAndEvaluate(t *testing.T, goos string, h host.Host) checks.Result {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(checks.EvalInput{OS: goos, Facts: b, Now: clock.Now()})
}

func TestResolveProfile(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	tests := []struct {
		name        string
		in          WindowsProfile
		wantEnabled *bool
		wantBlocked *bool
	}{
		{"WMI NotConfigured alone is Windows' default, on and blocking", WindowsProfile{WMIEnabled: i(2), WMIInbound: i(0)}, boolp(true), boolp(true)},
		{"group policy allow-inbound wins over local block", WindowsProfile{LocalEnabled: i(1), LocalInbound: i(1), PolicyInbound: i(0)}, boolp(true), boolp(false)},
		{"nothing at all is unknown", WindowsProfile{}, nil, boolp(true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			resolveProfile(&p)
			if diff := cmp.Diff(tc.wantEnabled, p.Enabled); diff != "" {
				t.Errorf("enabled (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBlocked, p.InboundBlocked); diff != "" {
				t.Errorf("inbound blocked (-want +got):\n%s", diff)
			}
		})
	}
}
