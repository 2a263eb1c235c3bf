package wifienc

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var argvNetsh = []string{`C:\WINDOWS\System32\netsh.exe`, "wlan", "show", "interfaces"}

const wifiGUID = "{9A3C5E7D-1B2F-4C6A-8D0E-2F4B6A8C0E1D}"

// winAdapterRows are MSFT_NetAdapter rows as Get-CimInstance returns
// them: a Wi-Fi adapter, an Ethernet adapter without a cable, and the
// virtual adapters of WireGuard and the Wi-Fi Direct feature.
func winAdapterRows(wifiGUID string, wifiConnected bool) []map[string]any {
	state := 2
	if wifiConnected {
		state = 1
	}
	return []map[string]any{
		{"Name": "Wi-Fi", "InterfaceDescription": "Intel(R) Wi-Fi 6 AX201 160MHz", "InterfaceIndex": 12, "InterfaceGuid": wifiGUID, "InterfaceType": 71, "NdisPhysicalMedium": 9, "MediaConnectState": state},
		{"Name": "Ethernet", "InterfaceDescription": "Intel(R) Ethernet Connection (13) I219-LM", "InterfaceIndex": 7, "InterfaceGuid": "{11111111-2222-3333-4444-555555555555}", "InterfaceType": 6, "NdisPhysicalMedium": 14, "MediaConnectState": 2},
		{"Name": "Example Corp", "InterfaceDescription": "WireGuard Tunnel", "InterfaceIndex": 31, "InterfaceGuid": "{66666666-7777-8888-9999-000000000000}", "InterfaceType": 53, "NdisPhysicalMedium": 0, "MediaConnectState": 1},
		{"Name": "Local Area Connection* 1", "InterfaceDescription": "Microsoft Wi-Fi Direct Virtual Adapter", "InterfaceIndex": 15, "InterfaceGuid": "{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}", "InterfaceType": 71, "NdisPhysicalMedium": 9, "MediaConnectState": 2},
	}
}

func winIPIfaceRows() []map[string]any {
	return []map[string]any{
		{"InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "AddressFamily": 2, "InterfaceMetric": 35, "ConnectionState": 1},
		{"InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "AddressFamily": 23, "InterfaceMetric": 35, "ConnectionState": 1},
		{"InterfaceIndex": 7, "InterfaceAlias": "Ethernet", "AddressFamily": 2, "InterfaceMetric": 25, "ConnectionState": 0},
		{"InterfaceIndex": 31, "InterfaceAlias": "Example Corp", "AddressFamily": 2, "InterfaceMetric": 5, "ConnectionState": 1},
		{"InterfaceIndex": 44, "InterfaceAlias": "Contoso IKEv2", "AddressFamily": 2, "InterfaceMetric": 1, "ConnectionState": 1},
	}
}

// Routes as MSFT_NetRoute lists them: Store 1 is the active store, 0 the
// persistent one.
var (
	winRoutesWiFi = []map[string]any{
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 7, "InterfaceAlias": "Ethernet", "RouteMetric": 0, "Store": 0},
		{"DestinationPrefix": "192.168.1.0/24", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 256, "Store": 1},
		{"DestinationPrefix": "::/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
	}
	// WireGuard for Windows with AllowedIPs 0.0.0.0/0 installs a default
	// route with a low interface metric; IPv6 stays on the Wi-Fi here.
	winRoutesWireGuardV4Only = []map[string]any{
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 31, "InterfaceAlias": "Example Corp", "RouteMetric": 0, "Store": 1},
	}
	winRoutesWireGuard = []map[string]any{
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 31, "InterfaceAlias": "Example Corp", "RouteMetric": 0, "Store": 1},
	}
	// The built-in VPN client's connection has no MSFT_NetAdapter row.
	winRoutesRAS = []map[string]any{
		{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		{"DestinationPrefix": "0.0.0.0/1", "InterfaceIndex": 44, "InterfaceAlias": "Contoso IKEv2", "RouteMetric": 1, "Store": 1},
		{"DestinationPrefix": "128.0.0.0/1", "InterfaceIndex": 44, "InterfaceAlias": "Contoso IKEv2", "RouteMetric": 1, "Store": 1},
	}
)

func winHost(t testing.TB, netsh host.Output, netshErr error, wifiConnected bool, routes []map[string]any) *host.Fake {
	return host.NewFake("windows", "amd64").
		AddRegistry(currentVersion, "SystemRoot", host.RegistryValue{Type: "REG_SZ", String: `C:\WINDOWS`}, nil).
		AddWMI(cimNamespace, adapterQuery, winAdapterRows(wifiGUID, wifiConnected), nil).
		AddWMI(cimNamespace, routeQuery, routes, nil).
		AddWMI(cimNamespace, ipIfaceQuery, winIPIfaceRows(), nil).
		AddRun(argvNetsh, netsh, netshErr)
}

func TestCollectWindows(t *testing.T) {
	w := func(name string) host.Output { return stdout(checktest.Testdata(t, "windows", name)) }
	rasApproved := &Thresholds{Allowed: []string{SecWPA2, SecWPA3}, ApprovedVPNs: []string{"name:Contoso*"}}
	tests := []struct {
		name        string
		host        *host.Fake
		th          *Thresholds
		want        checks.Status
		wantSummary string
	}{
		{"WPA2-Personal in English (CRLF) passes",
			winHost(t, w("netsh__wpa2_personal_en.txt"), nil, true, winRoutesWiFi), nil,
			checks.StatusPass, "WPA2-Personal Wi-Fi on \"Wi-Fi\""},
		{"WPA3-Enterprise Wi-Fi on Windows 11's longer block passes",
			winHost(t, w("netsh__wpa3_enterprise_win11_en.txt"), nil, true, winRoutesWiFi), nil,
			checks.StatusPass, "WPA3-Enterprise Wi-Fi on \"Wi-Fi\""},
		{"an open network in German (code page 850) fails",
			winHost(t, w("netsh__open_de_cp850.txt"), nil, true, winRoutesWiFi).
				AddWMI(cimNamespace, adapterQuery, []map[string]any{{"Name": "WLAN", "InterfaceDescription": "Intel(R) Dual Band Wireless-AC 8265", "InterfaceIndex": 12, "InterfaceGuid": "{5B1D7F3A-2C4E-4A6B-9C8D-0E1F2A3B4C5D}", "InterfaceType": 71, "NdisPhysicalMedium": 9, "MediaConnectState": 1}}, nil),
			nil, checks.StatusFail, "open (no encryption) Wi-Fi on WLAN"},
		{"WEP in French (UTF-16 with a BOM) fails",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, winRoutesWiFi).
				AddWMI(cimNamespace, adapterQuery, []map[string]any{{"Name": "Wi-Fi", "InterfaceDescription": "Realtek RTL8822CE 802.11ac PCIe Adapter", "InterfaceIndex": 12, "InterfaceGuid": "{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", "InterfaceType": 71, "NdisPhysicalMedium": 9, "MediaConnectState": 1}}, nil),
			nil, checks.StatusFail, "WEP Wi-Fi on \"Wi-Fi\""},
		{"a WEP network passes while WireGuard carries IPv4 and there is no IPv6 route",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, winRoutesWireGuard).
				AddWMI(cimNamespace, adapterQuery, winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true), nil),
			nil, checks.StatusPass, "approved VPN Example Corp (wireguard, WireGuard Tunnel)"},
		{"an IPv6 route around the VPN fails",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, append(winRoutesWireGuardV4Only, map[string]any{"DestinationPrefix": "::/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1})).
				AddWMI(cimNamespace, adapterQuery, winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true), nil),
			nil, checks.StatusFail, "ipv6 goes out through \"Wi-Fi\""},
		{"a built-in VPN connection is not approved by kind",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, winRoutesRAS).
				AddWMI(cimNamespace, adapterQuery, winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true), nil),
			nil, checks.StatusFail, "Contoso IKEv2 (vpn, Contoso IKEv2) carrying ipv4 is not an approved VPN"},
		{"a built-in VPN connection approved by name passes",
			winHost(t, w("netsh__wep_fr_utf16.txt"), nil, true, winRoutesRAS).
				AddWMI(cimNamespace, adapterQuery, winAdapterRows("{7C2E4A6B-3D5F-4B7C-8E9F-1A2B3C4D5E6F}", true), nil),
			rasApproved, checks.StatusPass, "approved VPN Contoso IKEv2"},
		{"netsh denied by the Location privacy setting is unknown with the fix",
			winHost(t, host.Output{Stdout: checktest.Testdata(t, "windows", "netsh__location_denied.txt"), ExitCode: 1}, nil, true, winRoutesWiFi), nil,
			checks.StatusUnknown, "turn on Settings > Privacy & security > Location"},
		{"a stopped WLAN AutoConfig service is unknown",
			winHost(t, host.Output{Stdout: checktest.Testdata(t, "windows", "netsh__wlansvc_stopped.txt"), ExitCode: 1}, nil, true, winRoutesWiFi), nil,
			checks.StatusUnknown, "wlansvc"},
		{"a netsh that timed out is unknown",
			winHost(t, host.Output{}, host.ErrTimeout, true, winRoutesWiFi), nil,
			checks.StatusUnknown, "timed out"},
		{"a disconnected Wi-Fi adapter is not applicable",
			winHost(t, w("netsh__disconnected_en.txt"), nil, false, winRoutesWiFi), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use (\"Wi-Fi\" not connected)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, tc.host, tc.th)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "Settings > Network & internet") {
				t.Errorf("remediation %q does not say where to click on Windows", res.Remediation)
			}
		})
	}
}

func TestCollectWindowsWithoutCIM(t *testing.T) {
	h := host.NewFake("windows", "amd64").AddWMI(cimNamespace, adapterQuery, nil, host.ErrPermission)
	res, _ := collectAndEvaluateErr(t, h)
	if !strings.Contains(res, "MSFT_NetAdapter") || !strings.Contains(res, "permission denied") {
		t.Errorf("error %q does not say which source failed and why", res)
	}
}

func TestCollectWindowsZeroAdapterRowsAreNoAnswer(t *testing.T) {
	h := host.NewFake("windows", "amd64").AddWMI(cimNamespace, adapterQuery, []map[string]any{}, nil)
	if res, _ := collectAndEvaluateErr(t, h); !strings.Contains(res, "returned no adapter") {
		t.Errorf("zero MSFT_NetAdapter rows: error %q, want no answer rather than no Wi-Fi", res)
	}
}
