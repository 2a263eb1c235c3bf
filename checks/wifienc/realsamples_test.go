package wifienc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The hnykda/wifi-heatmapper captures (see testdata/README.md) come from
// real machines; their authors replaced names with SSID-n, MAC addresses
// with fe:dc:ba:..., and in the German capture the GUID with x's.

// realNetshGUIDs are the GUIDs the captures print (the German one is
// redacted; the test restores a GUID of the same shape).
const (
	netshDEGUID = "{5b1d7f3a-2c4e-4a6b-9c8d-0e1f2a3b4c5d}"
	netshFRGUID = "{f899e530-fd03-44a9-8307-4d4fc4827eab}"
	netshITGUID = "{e36a6a75-d662-4a6b-9399-f1304b0fe75e}"
)

func netshDE(t testing.TB) []byte {
	return bytes.Replace(checktest.Testdata(t, "windows", "netsh__wpa2_enterprise_de_wh.txt"), []byte("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"), []byte(strings.Trim(netshDEGUID, "{}")), 1)
}

func TestParseNetshRealCaptures(t *testing.T) {
	tests := []struct {
		name string
		out  []byte
		want []netshInterface
	}{
		{"German, WPA2-Enterprise, the cipher label Verschlüsselungsverfahren found by structure", netshDE(t),
			[]netshInterface{{Name: "WLAN", GUID: strings.Trim(netshDEGUID, "{}"), Auth: "WPA2-Enterprise", Cipher: "CCMP"}}},
		{"French, open (Ouvrir, Aucun)", checktest.Testdata(t, "windows", "netsh__open_fr_wh.txt"),
			[]netshInterface{{Name: "Wi-Fi", GUID: strings.Trim(netshFRGUID, "{}"), Auth: "Ouvrir", Cipher: "Aucun"}}},
		{"Spanish, open (Abierta, Ninguna)", checktest.Testdata(t, "windows", "netsh__open_es_wh.txt"),
			[]netshInterface{{Name: "Wi-Fi", GUID: strings.Trim(netshFRGUID, "{}"), Auth: "Abierta", Cipher: "Ninguna"}}},
		{"Italian, WPA2-Personal (Crittografia)", checktest.Testdata(t, "windows", "netsh__wpa2_personal_it_wh.txt"),
			[]netshInterface{{Name: "Wi-Fi", GUID: strings.Trim(netshITGUID, "{}"), Auth: "WPA2-Personal", Cipher: "CCMP"}}},
		{"Windows 11 24H2 without Location permission lists no interface", checktest.Testdata(t, "windows", "netsh__location_denied_en_wh.txt"),
			[]netshInterface{}},
		{"the German capture as published (GUID redacted) lists no interface", checktest.Testdata(t, "windows", "netsh__wpa2_enterprise_de_wh.txt"),
			[]netshInterface{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseNetshWlanInterfaces(tc.out)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// winRealHost is a Windows machine whose Wi-Fi adapter has the GUID the
// capture prints.
func winRealHost(t testing.TB, netsh host.Output, name, guid string, routes []map[string]any) *host.Fake {
	rows := winAdapterRows(guid, true)
	rows[0]["Name"] = name
	return winHost(t, netsh, nil, true, routes).AddWMI(cimNamespace, adapterQuery, rows, nil)
}

func TestCollectWindowsRealCaptures(t *testing.T) {
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
	}{
		{"German WPA2-Enterprise passes",
			winRealHost(t, stdout(netshDE(t)), "WLAN", netshDEGUID, winRoutesWiFi),
			checks.StatusPass, "WPA2-Enterprise Wi-Fi on WLAN"},
		{"Italian WPA2-Personal passes",
			winRealHost(t, stdout(checktest.Testdata(t, "windows", "netsh__wpa2_personal_it_wh.txt")), "Wi-Fi", netshITGUID, winRoutesWiFi),
			checks.StatusPass, "WPA2-Personal Wi-Fi on \"Wi-Fi\""},
		{"French open network fails",
			winRealHost(t, stdout(checktest.Testdata(t, "windows", "netsh__open_fr_wh.txt")), "Wi-Fi", netshFRGUID, winRoutesWiFi),
			checks.StatusFail, "open (no encryption) Wi-Fi on \"Wi-Fi\""},
		{"Spanish open network fails",
			winRealHost(t, stdout(checktest.Testdata(t, "windows", "netsh__open_es_wh.txt")), "Wi-Fi", netshFRGUID, winRoutesWiFi),
			checks.StatusFail, "open (no encryption) Wi-Fi on \"Wi-Fi\""},
		{"Spanish open network passes while WireGuard carries IPv4",
			winRealHost(t, stdout(checktest.Testdata(t, "windows", "netsh__open_es_wh.txt")), "Wi-Fi", netshFRGUID, winRoutesWireGuard),
			checks.StatusPass, "approved VPN Example Corp (wireguard, WireGuard Tunnel)"},
		{"the real 24H2 Location refusal is unknown with the fix",
			winRealHost(t, host.Output{Stdout: checktest.Testdata(t, "windows", "netsh__location_denied_en_wh.txt"), ExitCode: 1}, "Wi-Fi", wifiGUID, winRoutesWiFi),
			checks.StatusUnknown, "turn on Settings > Privacy & security > Location"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, tc.host, nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			if bytes.Contains(facts, []byte("SSID-1")) || bytes.Contains(facts, []byte("fe:dc:ba")) {
				t.Errorf("network name or address leaked: %s", facts)
			}
		})
	}
}

// vpnProfileRows are PS_VpnConnection rows with the properties and values
// Get-VpnConnection shows in Microsoft's documentation (Name, TunnelType
// Ikev2/Automatic, ConnectionStatus), renamed to this test's connections.
func vpnProfileRows(tunnelType string) []map[string]any {
	return []map[string]any{
		{"Name": "Contoso IKEv2", "TunnelType": tunnelType, "ConnectionStatus": "Connected", "AllUserConnection": true},
		{"Name": "Test1", "TunnelType": "Automatic", "ConnectionStatus": "Disconnected", "AllUserConnection": true},
	}
}

func TestCollectWindowsBuiltInVPN(t *testing.T) {
	w := func(name string) host.Output { return stdout(checktest.Testdata(t, "windows", name)) }
	wepHost := func(routes []map[string]any) *host.Fake {
		return winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, routes).
			AddWMI(cimNamespace, adapterQuery, winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true), nil)
	}
	// An SSTP connection that shows as an adapter on the WAN Miniport
	// driver with the PPP interface type.
	sstpAdapter := append(winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true),
		map[string]any{"Name": "Contoso SSTP", "InterfaceDescription": "WAN Miniport (SSTP)", "InterfaceIndex": 44, "InterfaceGuid": "{bbbbbbbb-cccc-dddd-eeee-ffffffffffff}", "InterfaceType": 23, "NdisPhysicalMedium": 0, "MediaConnectState": 1})
	sstpRoutes := []map[string]any{
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 44, "InterfaceAlias": "Contoso SSTP", "RouteMetric": 0, "Store": 1},
	}
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
		wantFacts   string
	}{
		{"an IKEv2 profile makes the connection an approved ipsec tunnel, named",
			wepHost(winRoutesRAS).AddWMI(vpnClientNamespace, vpnConnectionQuery, vpnProfileRows("Ikev2"), nil),
			checks.StatusPass, "approved VPN Contoso IKEv2 (ipsec, Contoso IKEv2)", `TunnelType \"Ikev2\"`},
		{"an Automatic profile does not say which protocol connected",
			wepHost(winRoutesRAS).AddWMI(vpnClientNamespace, vpnConnectionQuery, vpnProfileRows("Automatic"), nil),
			checks.StatusFail, "Contoso IKEv2 (vpn, Contoso IKEv2) carrying ipv4 is not an approved VPN", `TunnelType \"Automatic\"`},
		{"a PPTP profile is not approved",
			wepHost(winRoutesRAS).AddWMI(vpnClientNamespace, vpnConnectionQuery, vpnProfileRows("Pptp"), nil),
			checks.StatusFail, "(pptp, Contoso IKEv2) carrying ipv4 is not an approved VPN", "ConnectionStatus Connected"},
		{"a per-user profile SYSTEM cannot see leaves an unidentified vpn",
			wepHost(winRoutesRAS).AddWMI(vpnClientNamespace, vpnConnectionQuery, nil, nil),
			checks.StatusFail, "(vpn, Contoso IKEv2) carrying ipv4 is not an approved VPN", "no built-in VPN profile of that name is visible"},
		{"an unreadable profile store is noted",
			wepHost(winRoutesRAS).AddWMI(vpnClientNamespace, vpnConnectionQuery, nil, host.ErrPermission),
			checks.StatusFail, "not an approved VPN", "the built-in VPN profiles could not be read (PS_VpnConnection): permission denied"},
		{"a WAN Miniport (SSTP) adapter is named by its profile",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, sstpRoutes).
				AddWMI(cimNamespace, adapterQuery, sstpAdapter, nil).
				AddWMI(cimNamespace, ipIfaceQuery, append(winIPIfaceRows(), map[string]any{"InterfaceIndex": 44, "InterfaceAlias": "Contoso SSTP", "AddressFamily": 2, "InterfaceMetric": 1, "ConnectionState": 1}), nil).
				AddWMI(vpnClientNamespace, vpnConnectionQuery, []map[string]any{{"Name": "Contoso SSTP", "TunnelType": "Sstp", "ConnectionStatus": "Connected"}}, nil),
			checks.StatusPass, "approved VPN Contoso SSTP (sstp, Contoso SSTP)", `MSFT_NetAdapter InterfaceDescription \"WAN Miniport (SSTP)\", InterfaceType 23`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, tc.host, nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			if !bytes.Contains(facts, []byte(tc.wantFacts)) {
				t.Errorf("facts lack %q: %s", tc.wantFacts, facts)
			}
		})
	}
}

func TestCollectDarwinRealCaptures(t *testing.T) {
	tests := []struct {
		name, profiler string
		want           checks.Status
		wantSummary    string
	}{
		{"macOS 12.7.2 on WPA2 Personal passes", "system_profiler__wpa2_personal_macos12_wh.txt", checks.StatusPass, "WPA2-Personal Wi-Fi on en0"},
		{"macOS 15.5 on an open network fails", "system_profiler__open_macos15_wh.txt", checks.StatusFail, "open (no encryption) Wi-Fi on en0"},
		{"macOS 15.5 with Wi-Fi turned off is not applicable", "system_profiler__wifi_off_macos15_wh.txt", checks.StatusNotApplicable, "no Wi-Fi in use (en0 not connected)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, mac(t, tc.profiler, "route__get_v4_en0.txt"), nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			for _, s := range []string{"SSID-", "fe:dc:ba", "2e:50:d5"} {
				if bytes.Contains(facts, []byte(s)) {
					t.Errorf("%q leaked: %s", s, facts)
				}
			}
		})
	}
}
