package wifienc

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestNMSecurity(t *testing.T) {
	tests := []struct {
		name            string
		flags, wpa, rsn uint32
		want            string
		wantEnterprise  bool
	}{
		{"no flags is open", 0, 0, 0, SecOpen, false},
		{"privacy alone is WEP", 1, 0, 0, SecWEP, false},
		{"WPA1 PSK with TKIP is WPA", 1, 0x144, 0, SecWPA, false},
		{"WPA/WPA2 mixed is WPA2", 1, 0x144, 0x188, SecWPA2, false},
		{"RSN PSK is WPA2", 1, 0, 0x188, SecWPA2, false},
		{"RSN 802.1X is WPA2-Enterprise", 1, 0, 0x288, SecWPA2, true},
		{"SAE alone is WPA3", 1, 0, 0x488, SecWPA3, false},
		{"SAE with PSK (transition) is WPA2", 1, 0, 0x588, SecWPA2, false},
		{"Suite B 192 is WPA3-Enterprise", 1, 0, 0x2000 | 0x88, SecWPA3, true},
		{"OWE is OWE", 1, 0, 0x888, SecOWE, false},
		{"the open side of an OWE transition pair is open", 0, 0, 0x1000, SecOpen, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ent, _ := nmSecurity(tc.flags, tc.wpa, tc.rsn)
			if got != tc.want || ent != tc.wantEnterprise {
				t.Errorf("nmSecurity(%#x, %#x, %#x) = %s enterprise=%t, want %s enterprise=%t", tc.flags, tc.wpa, tc.rsn, got, ent, tc.want, tc.wantEnterprise)
			}
		})
	}
}

func TestBusctlRealOutputDecodes(t *testing.T) {
	// Two properties of org.freedesktop.DBus, printed by busctl 252 on a
	// private bus: one JSON value per line.
	vals, err := parseBusctl(checktest.Testdata(t, "linux", "busctl__dbus_two_properties.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 || vals[0].Type != "as" || vals[1].Type != "as" {
		t.Errorf("got %+v, want two values of type as", vals)
	}
	if _, err := busctlUint32s(checktest.Testdata(t, "linux", "busctl__dbus_two_properties.txt"), 2); err == nil {
		t.Error("string arrays decoded as uint32s")
	}
}

func TestWPACLISecurity(t *testing.T) {
	tests := []struct {
		keyMgmt, cipher string
		want            string
		wantEnterprise  bool
		wantOK          bool
	}{
		{"WPA2-PSK", "CCMP", SecWPA2, false, true},
		{"WPA2/IEEE 802.1X/EAP", "CCMP", SecWPA2, true, true},
		{"WPA-PSK", "TKIP", SecWPA, false, true},
		{"WPA/IEEE 802.1X/EAP", "TKIP", SecWPA, true, true},
		{"SAE", "CCMP", SecWPA3, false, true},
		{"FT-SAE", "CCMP", SecWPA3, false, true},
		{"WPA2-EAP-SUITE-B-192", "GCMP-256", SecWPA3, true, true},
		{"FT-PSK", "CCMP", SecWPA2, false, true},
		{"OWE", "CCMP", SecOWE, false, true},
		{"NONE", "NONE", SecOpen, false, true},
		{"NONE", "WEP-104", SecWEP, false, true},
		{"IEEE 802.1X (no WPA)", "WEP-104", SecWEP, true, true},
		{"WAPI-PSK", "SMS4", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.keyMgmt+" with "+tc.cipher+" is "+tc.want, func(t *testing.T) {
			sec, ent, ok := wpaStatus{KeyMgmt: tc.keyMgmt, PairwiseCipher: tc.cipher}.security()
			if sec != tc.want || ent != tc.wantEnterprise || ok != tc.wantOK {
				t.Errorf("got %q enterprise=%t ok=%t", sec, ent, ok)
			}
		})
	}
}

func TestParseNetshWlanInterfaces(t *testing.T) {
	tests := []struct {
		file string
		want []netshInterface
	}{
		{"netsh__wpa2_personal_en.txt", []netshInterface{{Name: "Wi-Fi", GUID: "9a3c5e7d-1b2f-4c6a-8d0e-2f4b6a8c0e1d", Auth: "WPA2-Personal", Cipher: "CCMP"}}},
		{"netsh__wpa3_enterprise_win11_en.txt", []netshInterface{{Name: "Wi-Fi", GUID: "9a3c5e7d-1b2f-4c6a-8d0e-2f4b6a8c0e1d", Auth: "WPA3-Enterprise", Cipher: "GCMP-256"}}},
		{"netsh__open_de_cp850.txt", []netshInterface{{Name: "WLAN", GUID: "5b1d7f3a-2c4e-4a6b-9c8d-0e1f2a3b4c5d", Auth: "Offen", Cipher: "Keine"}}},
		{"netsh__wep_fr_utf16.txt", []netshInterface{{Name: "Wi-Fi", GUID: "7c2e4a6b-3d5f-4b7c-8e9f-1a2b3c4d5e6f", Auth: "Ouvrir", Cipher: "WEP"}}},
		{"netsh__disconnected_en.txt", []netshInterface{{Name: "Wi-Fi", GUID: "9a3c5e7d-1b2f-4c6a-8d0e-2f4b6a8c0e1d"}}},
		{"netsh__location_denied.txt", []netshInterface{}},
	}
	for _, tc := range tests {
		t.Run(tc.file+" parses by structure", func(t *testing.T) {
			got := parseNetshWlanInterfaces(checktest.Testdata(t, "windows", tc.file))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseNetshRealCapture reads the real Windows 10 output published in
// sebhildebrandt/systeminformation#525. Its author replaced the GUID with
// "xxxxx"; the parser splits interfaces on the GUID line, so the test puts
// back a GUID of the shape the same project's PR #577 shows.
func TestParseNetshRealCapture(t *testing.T) {
	b := checktest.Testdata(t, "windows", "netsh__win10_wpa2_personal_redacted_si525.txt")
	t.Run("the redacted GUID hides the interface", func(t *testing.T) {
		if got := parseNetshWlanInterfaces(b); len(got) != 0 {
			t.Errorf("got %+v, want no interface without a GUID line", got)
		}
	})
	t.Run("with a GUID restored it reads WPA2-Personal and CCMP", func(t *testing.T) {
		b := bytes.Replace(b, []byte(":  xxxxx"), []byte(":  1234567a-4a20-42a0-66a6-420a01d66b6a"), 1)
		want := []netshInterface{{Name: "WiFi", GUID: "1234567a-4a20-42a0-66a6-420a01d66b6a", Auth: "WPA2-Personal", Cipher: "CCMP"}}
		if diff := cmp.Diff(want, parseNetshWlanInterfaces(b)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestNetshUnknownLanguageFoundByStructure(t *testing.T) {
	// Labels in a language the parser has no words for (Polish labels
	// replaced by placeholders), and a network called "CCMP" to tempt the
	// value search.
	out := []byte("\r\nX:\r\n\r\n    Aaa    : Wi-Fi\r\n    Bbb    : Intel\r\n    Ccc    : 9a3c5e7d-1b2f-4c6a-8d0e-2f4b6a8c0e1d\r\n" +
		"    Ddd    : 02:00:00:00:00:00\r\n    Eee    : po\u0142\u0105czono\r\n    Fff    : CCMP\r\n    Ggg    : WPA2-Personal\r\n    Hhh    : CCMP\r\n")
	got := parseNetshWlanInterfaces(out)
	want := []netshInterface{{Name: "Wi-Fi", GUID: "9a3c5e7d-1b2f-4c6a-8d0e-2f4b6a8c0e1d", Auth: "WPA2-Personal", Cipher: "CCMP"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNetshSecurity(t *testing.T) {
	tests := []struct {
		auth, cipher string
		want         string
		wantOK       bool
	}{
		{"WPA2-Personal", "CCMP", SecWPA2, true},
		{"WPA2 - Personnel", "CCMP", SecWPA2, true},
		{"WPA3-Personal", "CCMP", SecWPA3, true},
		{"WPA-Personal", "TKIP", SecWPA, true},
		{"OWE", "CCMP", SecOWE, true},
		{"Open", "WEP", SecWEP, true},
		{"Shared", "WEP", SecWEP, true},
		{"Open", "None", SecOpen, true},
		{"Offen", "Keine", SecOpen, true},
		{"Ouvrir", "Aucun", SecOpen, true},
		{"WPA4-Personal", "CCMP", "", false},
		{"Qwerty", "Zzz", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.auth+" with "+tc.cipher+" is "+tc.want, func(t *testing.T) {
			got, _, ok := netshSecurity(tc.auth, tc.cipher)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %q ok=%t", got, ok)
			}
		})
	}
}

func TestAirportSecurity(t *testing.T) {
	tests := []struct {
		mode           string
		want           string
		wantEnterprise bool
		wantOK         bool
	}{
		{"spairport_security_mode_none", SecOpen, false, true},
		{"pairport_security_mode_none", SecOpen, false, true},
		{"spairport_security_mode_wep", SecWEP, false, true},
		{"spairport_security_mode_wpa_personal", SecWPA, false, true},
		{"spairport_security_mode_wpa2_personal_mixed", SecWPA2, false, true},
		{"spairport_security_mode_wpa2_personal", SecWPA2, false, true},
		{"spairport_security_mode_wpa2_enterprise", SecWPA2, true, true},
		{"spairport_security_mode_wpa3_personal", SecWPA3, false, true},
		{"spairport_security_mode_wpa3_transition", SecWPA2, false, true},
		{"spairport_security_mode_wpa3_enterprise", SecWPA3, true, true},
		{"spairport_security_mode_owe", SecOWE, false, true},
		{"WPA2 Personal", "", false, false},
		{"spairport_security_mode_wpa4_quantum", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.mode+" is "+tc.want, func(t *testing.T) {
			got, ent, ok := airportSecurity(tc.mode)
			if got != tc.want || ent != tc.wantEnterprise || ok != tc.wantOK {
				t.Errorf("got %q enterprise=%t ok=%t", got, ent, ok)
			}
		})
	}
}

func TestParseSCUtil(t *testing.T) {
	got := parseSCUtilNCList(checktest.Testdata(t, "darwin", "scutil__nc_list_wireguard.txt"))
	want := []ncService{
		{Connected: true, ID: "3F2504E0-4F89-41D3-9A0C-0305E82C3301", Name: "Example Corp WG", Type: "VPN:com.wireguard.macos"},
		{Connected: false, ID: "E3A8F336-CCEB-4A29-B50A-FBAD41D84A71", Name: "Old L2TP", Type: "PPP:L2TP"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := parseSCUtilNCStatusInterface(checktest.Testdata(t, "darwin", "scutil__nc_status_wireguard.txt")); got != "utun4" {
		t.Errorf("interface = %q, want utun4", got)
	}
}

func TestKernelRouteLookup(t *testing.T) {
	v4, v6 := netip.MustParseAddr(probeIPv4), netip.MustParseAddr(probeIPv6)
	tests := []struct {
		name, file string
		v6         bool
		want       string
		wantOK     bool
	}{
		{"the recorded default route of this machine", "proc_net_route__eth0.txt", false, "eth0", true},
		{"OpenVPN's half routes beat the default", "proc_net_route__openvpn_def1.txt", false, "tun0", true},
		{"policy routing is invisible in the main table", "proc_net_route__wg_policy.txt", false, "wlan0", true},
		{"the recorded IPv6 default route of this machine", "proc_net_ipv6_route__eth0.txt", true, "eth0", true},
		{"the loopback reject route is not a route", "proc_net_ipv6_route__none.txt", true, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse, addr := parseProcRoute, v4
			if tc.v6 {
				parse, addr = parseProcIPv6Route, v6
			}
			routes, err := parse(checktest.Testdata(t, "linux", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := lookupRoute(routes, addr)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %q %t, want %q %t", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseRouteGet(t *testing.T) {
	for _, tc := range []struct {
		file string
		want ipRoute
	}{
		{"ip__route_get_v4_eth0.txt", ipRoute{dev: "eth0", prefsrc: "192.0.2.2"}},
		{"ip__route_get_v6_eth0.txt", ipRoute{dev: "eth0", prefsrc: "fd00::2"}},
		{"ip__route_get_v4_wg_policy.txt", ipRoute{dev: "wg0", prefsrc: "10.66.0.2"}},
		{"ip__route_get_v4_strongswan_table220.txt", ipRoute{dev: "wlan0", prefsrc: "10.10.10.2"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseIPRouteGet(checktest.Testdata(t, "linux", tc.file))
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ file, want string }{
		{"route__get_v4_en0.txt", "en0"},
		{"route__get_v4_utun4.txt", "utun4"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseBSDRouteGet(checktest.Testdata(t, "darwin", tc.file))
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
