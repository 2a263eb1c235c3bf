package firewall

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The MDM registry values below are hand-written: no capture of an
// Intune-managed machine's FirewallPolicy\Mdm key was available (see
// testdata/README.md for the documentation they follow).
func TestCollectWindowsMDM(t *testing.T) {
	base := func(local [3]uint64, profiles string) *host.Fake {
		return winHost(t, local, profiles, "wmi-netconnectionprofile__public.txt", "wmi-service__mpssvc_running.txt")
	}
	allOn, publicOff := "wmi-netfirewallprofile__all_on.txt", "wmi-netfirewallprofile__public_off.txt"
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInSum  string
		wantSource string
	}{
		{"an MDM-enforced firewall passes although the user turned the local profile off",
			base([3]uint64{1, 1, 0}, publicOff).
				AddRegistry(mdmKey+"PublicProfile", "EnableFirewall", dword(1), nil).
				AddRegistry(mdmKey+"PublicProfile", "DefaultInboundAction", dword(1), nil),
			checks.StatusPass, "Public profile", "MDM (Firewall CSP) EnableFirewall=1"},
		{"an MDM turning the Public profile off fails although the local store is on",
			base([3]uint64{1, 1, 1}, allOn).AddRegistry(mdmKey+"PublicProfile", "EnableFirewall", dword(0), nil),
			checks.StatusFail, "off for the Public profile", "MDM (Firewall CSP) EnableFirewall=0"},
		{"an MDM allowing inbound connections on the Private profile is read from StandardProfile",
			winHost(t, [3]uint64{1, 1, 1}, allOn, "wmi-netconnectionprofile__private_and_domain.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(mdmKey+"StandardProfile", "DefaultInboundAction", dword(0), nil),
			checks.StatusFail, "allows unsolicited inbound connections on the Private profile", ""},
		{"the CSP's PrivateProfile name is read when StandardProfile is absent",
			winHost(t, [3]uint64{1, 1, 1}, allOn, "wmi-netconnectionprofile__private_and_domain.txt", "wmi-service__mpssvc_running.txt").
				AddRegistry(mdmKey+"PrivateProfile", "DefaultInboundAction", dword(0), nil),
			checks.StatusFail, "allows unsolicited inbound connections on the Private profile", ""},
		{"group policy wins over the MDM, as the Firewall CSP's merge law says",
			base([3]uint64{1, 1, 1}, allOn).
				AddRegistry(mdmKey+"PublicProfile", "EnableFirewall", dword(0), nil).
				AddRegistry(policyKey+"PublicProfile", "EnableFirewall", dword(1), nil),
			checks.StatusPass, "Public profile", "group policy EnableFirewall=1"},
		{"without an MDM the local store decides",
			base([3]uint64{1, 1, 1}, allOn),
			checks.StatusPass, "Public profile", "local policy EnableFirewall=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := collectAndEvaluate(t, "windows", tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q; evidence %v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, res.Evidence)
			}
			if tc.wantSource == "" {
				return
			}
			facts, err := collectWindows(t.Context(), tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if got := facts.Windows.Profiles[2].EnabledSource; !strings.HasPrefix(got, tc.wantSource) {
				t.Errorf("Public profile enabled source %q, want it to start with %q", got, tc.wantSource)
			}
		})
	}
}
