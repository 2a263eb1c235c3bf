package wifienc

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestParseXfrmPolicies(t *testing.T) {
	t.Run("the recorded strongSwan-style listing has five policies", func(t *testing.T) {
		pols, err := parseXfrmPolicies(checktest.Testdata(t, "linux", "ip__xfrm_policy_strongswan_roadwarrior.txt"))
		if err != nil {
			t.Fatal(err)
		}
		var dirs []string
		for _, p := range pols {
			dirs = append(dirs, p.dir)
		}
		if diff := cmp.Diff([]string{"fwd", "in", "out", "in", "out"}, dirs); diff != "" {
			t.Errorf("directions (-want +got):\n%s", diff)
		}
		out := pols[2]
		if out.src.String() != "10.10.10.2/32" || out.dst.String() != "0.0.0.0/0" || out.priority != 383615 ||
			len(out.tmpls) != 1 || out.tmpls[0] != (xfrmTmpl{peer: "203.0.113.1", proto: "esp", mode: "tunnel"}) {
			t.Errorf("out policy = %+v", out)
		}
	})
	t.Run("libreswan's real listing (no ptype) parses", func(t *testing.T) {
		pols, err := parseXfrmPolicies(checktest.Testdata(t, "linux", "ip__xfrm_policy_libreswan_split_lsw2230.txt"))
		if err != nil || len(pols) != 9 || pols[0].dir != "out" || pols[8].dir != "fwd" || pols[7].dst.String() != "10.0.0.0/8" {
			t.Errorf("got %d policies, %v: %+v", len(pols), err, pols)
		}
	})
	t.Run("selectors with ports and blocking actions are kept apart", func(t *testing.T) {
		pols, err := parseXfrmPolicies(checktest.Testdata(t, "linux", "ip__xfrm_policy_block_and_port.txt"))
		if err != nil || len(pols) != 2 || !pols[0].upper || pols[1].upper || !pols[1].block {
			t.Errorf("got %+v, %v", pols, err)
		}
	})
	t.Run("an optional template is marked", func(t *testing.T) {
		pols, err := parseXfrmPolicies(checktest.Testdata(t, "linux", "ip__xfrm_policy_level_use.txt"))
		if err != nil || len(pols) != 1 || !pols[0].tmpls[0].optional || pols[0].tmpls[0].mode != "transport" {
			t.Errorf("got %+v, %v", pols, err)
		}
	})
	t.Run("per-socket policies are read as such", func(t *testing.T) {
		// The layout Openswan's xelerance/Openswan#180 shows (tabs restored).
		pols, err := parseXfrmPolicies([]byte("src 0.0.0.0/0 dst 0.0.0.0/0 \n\tsocket out priority 0 \n"))
		if err != nil || len(pols) != 1 || pols[0].dir != "socket" {
			t.Errorf("got %+v, %v", pols, err)
		}
	})
	t.Run("garbage is an error", func(t *testing.T) {
		if _, err := parseXfrmPolicies([]byte("RTNETLINK answers: Operation not permitted\n")); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a direction line without its direction is an error, not a panic", func(t *testing.T) {
		// Found by FuzzParseXfrmPolicies.
		if _, err := parseXfrmPolicies([]byte("src 0.0.0.0/0 dst 0.0.0.0/0 \n\tdir\n")); err == nil {
			t.Error("no error")
		}
	})
}

func TestXfrmCovers(t *testing.T) {
	probe := netip.MustParseAddr(probeIPv4)
	vip := netip.MustParseAddr("10.10.10.2")
	lan := netip.MustParseAddr("192.168.1.23")
	tests := []struct {
		name, file string
		src        netip.Addr
		want       bool
		wantWhy    string
	}{
		{"the virtual IP's traffic to anywhere is covered", "ip__xfrm_policy_strongswan_roadwarrior.txt", vip, true, ""},
		{"traffic from the LAN address is not selected", "ip__xfrm_policy_strongswan_roadwarrior.txt", lan, false, ""},
		{"an unknown source needs a policy for any source", "ip__xfrm_policy_strongswan_roadwarrior.txt", netip.Addr{}, false, ""},
		{"a split tunnel does not select the internet", "ip__xfrm_policy_split_10_8.txt", lan, false, ""},
		{"optional ESP does not count", "ip__xfrm_policy_level_use.txt", lan, false, "level use"},
		{"a blocking policy is not a tunnel", "ip__xfrm_policy_block_and_port.txt", lan, false, "blocks"},
		{"no policies, no tunnel", "ip__xfrm_policy_none.txt", lan, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pols, err := parseXfrmPolicies(checktest.Testdata(t, "linux", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := xfrmCovers(pols, tc.src, probe)
			if got.covered != tc.want || (tc.wantWhy != "" && !strings.Contains(got.why, tc.wantWhy)) {
				t.Errorf("got %+v, want covered=%t why containing %q", got, tc.want, tc.wantWhy)
			}
		})
	}
	t.Run("a policy for only part of the internet is reported as such", func(t *testing.T) {
		pols, _ := parseXfrmPolicies([]byte("src 0.0.0.0/0 dst 0.0.0.0/1 \n\tdir out priority 10 ptype main \n\ttmpl src 192.0.2.2 dst 198.51.100.1\n\t\tproto esp reqid 1 mode tunnel\n"))
		if got := xfrmCovers(pols, lan, probe); got.covered || !strings.Contains(got.why, "covers only 0.0.0.0/1") {
			t.Errorf("got %+v", got)
		}
	})
}

func TestParseTuntapShow(t *testing.T) {
	got := parseTuntapShow(checktest.Testdata(t, "linux", "ip__tuntap_show_openvpn_openconnect.txt"))
	want := map[string][]string{"tun0": {"openvpn"}, "tun1": {"openconnect"}, "tun7": {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	t.Run("iproute2 6.1's JSON for the same devices is not valid JSON", func(t *testing.T) {
		var v any
		if err := json.Unmarshal(checktest.Testdata(t, "linux", "ip__tuntap_show_json_broken.txt"), &v); err == nil {
			t.Error("the recorded -j output decoded; the text parser may no longer be needed")
		}
	})
	t.Run("several holders of one kind agree, of two kinds do not", func(t *testing.T) {
		if k, p, ok := tunKindByProcesses([]string{"NetworkManager", "openvpn"}); k != KindOpenVPN || p != "openvpn" || !ok {
			t.Errorf("got %q %q %t", k, p, ok)
		}
		if _, _, ok := tunKindByProcesses([]string{"openvpn", "openconnect"}); ok {
			t.Error("two VPN clients on one device were accepted")
		}
	})
}

func TestBusctlDictString(t *testing.T) {
	// GetStats of a private dbus-daemon: the recorded shape of an a{sv}
	// reply, one dictionary inside the data array.
	b := checktest.Testdata(t, "linux", "busctl__dbus_getstats_asv.txt")
	if _, found, err := busctlDictString(b, "Security"); found || err != nil {
		t.Errorf("absent key: found=%t err=%v", found, err)
	}
	if _, _, err := busctlDictString(b, "Serial"); err == nil {
		t.Error("a u entry was read as a string")
	}
	s, found, err := busctlDictString(checktest.Testdata(t, "linux", "busctl__iwd_diagnostics_wpa2_personal.txt"), "Security")
	if s != "WPA2-Personal" || !found || err != nil {
		t.Errorf("got %q %t %v", s, found, err)
	}
}

func TestIWDDiagnosticSecurity(t *testing.T) {
	tests := []struct {
		in             string
		want           string
		wantEnterprise bool
		wantOK         bool
	}{
		{"WPA1-Personal", SecWPA, false, true},
		{"WPA2-Personal", SecWPA2, false, true},
		{"WPA2-Personal + FT", SecWPA2, false, true},
		{"WPA2-Enterprise + FT", SecWPA2, true, true},
		{"WPA3-Personal", SecWPA3, false, true},
		{"FILS", SecWPA2, true, true},
		{"OWE", SecOWE, false, true},
		{"OSEN", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.in+" is "+tc.want, func(t *testing.T) {
			got, ent, ok := iwdDiagnosticSecurity(tc.in)
			if got != tc.want || ent != tc.wantEnterprise || ok != tc.wantOK {
				t.Errorf("got %q %t %t", got, ent, ok)
			}
		})
	}
}

// TestWindowsAdapterDescriptions classifies adapter descriptions as users
// printed them: deanmcniven/wsl2-vpn-support#7 (Get-NetAdapter),
// saltstack/salt#56275 (Get-NetAdapter | Format-List), winsiderss/
// systeminformer#1713 (pnputil), microsoft/WSL#5821 (Win32_NetworkAdapter).
func TestWindowsAdapterDescriptions(t *testing.T) {
	for desc, want := range map[string]string{
		"Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64": KindAnyConnect,
		"PANGP Virtual Ethernet Adapter":             KindGlobalProtect,
		"TAP-Windows Adapter V9":                     KindOpenVPN,
		"TAP-Windows Adapter V9 for OpenVPN Connect": KindOpenVPN,
		"TAP-ProtonVPN Windows Adapter V9":           "",
		"WAN Miniport (IKEv2)":                       KindIPsec,
		"WAN Miniport (SSTP)":                        KindSSTP,
		"Intel(R) Wi-Fi 6 AX201 160MHz":              "",
		"Hyper-V Virtual Ethernet Adapter #2":        "",
		"Windscribe VPN":                             "",
	} {
		if got := windowsKindByDescription(desc); got != want {
			t.Errorf("%q: got %q, want %q", desc, got, want)
		}
	}
}
