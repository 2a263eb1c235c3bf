package firewall

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// stockServer2022 is Mondoo's real capture of MSFT_NetFirewallProfile on a
// stock Windows Server 2022 (testdata/README.md): every profile Enabled=1,
// DefaultInboundAction=0 (NotConfigured), in PowerShell 5.1's layout with
// the CimClass members ConvertTo-Json adds.
const stockServer2022 = "wmi-netfirewallprofile__server2022_stock_mondoo.txt"

func TestCollectWindowsRealProfiles(t *testing.T) {
	denied := host.Wrap(host.ErrPermission, errors.New("registry: access denied"))
	registryDenied := func(h *host.Fake) *host.Fake {
		for _, pk := range profileKeys {
			for _, key := range []string{policyKey + pk.policy, mdmKey + pk.local, localKey + pk.local} {
				h.AddRegistry(key, "EnableFirewall", host.RegistryValue{}, denied)
				h.AddRegistry(key, "DefaultInboundAction", host.RegistryValue{}, denied)
			}
		}
		return h
	}
	tests := []struct {
		name          string
		host          *host.Fake
		wantStatus    checks.Status
		wantInSum     string
		wantEnabled   string
		wantInbound   string
		wantNoteInAny string
	}{
		{"a stock server with every profile on and no configured inbound action passes",
			winHost(t, [3]uint64{1, 1, 1}, stockServer2022, "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusPass, "Public profile",
			"local policy EnableFirewall=1, confirmed by MSFT_NetFirewallProfile",
			"MSFT_NetFirewallProfile DefaultInboundAction=NotConfigured (the Windows default, block)", ""},
		{"with the registry denied the real WMI profiles decide alone and the denial is noted",
			registryDenied(host.NewFake("windows", "amd64")).
				AddWMI(standardCimv2, fwProfileQuery, wmiFile(t, stockServer2022), nil).
				AddWMI(standardCimv2, connProfileQuery, wmiFile(t, "wmi-netconnectionprofile__public.txt"), nil).
				AddWMI(cimv2, serviceQuery, wmiFile(t, "wmi-service__mpssvc_running.txt"), nil),
			checks.StatusPass, "Public profile",
			"MSFT_NetFirewallProfile Enabled=1",
			"MSFT_NetFirewallProfile DefaultInboundAction=NotConfigured (the Windows default, block)", "access denied"},
		{"a local store with Public off contradicting the real WMI answer cannot tell",
			winHost(t, [3]uint64{1, 1, 0}, stockServer2022, "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt"),
			checks.StatusUnknown, "disagree", "", "", ""},
		{"group policy turning the Public profile off fails although WMI's local view is on",
			winHost(t, [3]uint64{1, 1, 1}, stockServer2022, "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(policyKey+"PublicProfile", "EnableFirewall", dword(0), nil),
			checks.StatusFail, "off for the Public profile", "group policy EnableFirewall=0", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := collectAndEvaluate(t, "windows", tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q; evidence %v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, res.Evidence)
			}
			facts, err := collectWindows(t.Context(), tc.host)
			if err != nil {
				t.Fatal(err)
			}
			public := facts.Windows.Profiles[2]
			if tc.wantEnabled != "" && public.EnabledSource != tc.wantEnabled {
				t.Errorf("Public enabled source = %q, want %q", public.EnabledSource, tc.wantEnabled)
			}
			if tc.wantInbound != "" && public.InboundSource != tc.wantInbound {
				t.Errorf("Public inbound source = %q, want %q", public.InboundSource, tc.wantInbound)
			}
			if tc.wantNoteInAny != "" && !strings.Contains(strings.Join(facts.Windows.Notes, "\n"), tc.wantNoteInAny) {
				t.Errorf("notes %q do not mention %q", facts.Windows.Notes, tc.wantNoteInAny)
			}
		})
	}
}
