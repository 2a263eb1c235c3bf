package wifienc

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A line longer than any scanner buffer must not hide the lines after
// it: the parsers used to stop there (or fail), missing a route, a VPN
// or the association state.
func TestLongLinesDoNotHideLaterLines(t *testing.T) {
	long := checktest.LongLine("")
	t.Run("an IPv4 default route after a long line is found", func(t *testing.T) {
		routes, err := parseProcRoute([]byte("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" +
			long + "\nwlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"))
		if err != nil {
			t.Fatal(err)
		}
		if dev, ok := lookupRoute(routes, netipAddr(probeIPv4)); !ok || dev != "wlan0" {
			t.Errorf("route to %s via %q, %t; want wlan0", probeIPv4, dev, ok)
		}
	})
	t.Run("an IPv6 default route after a long line is found", func(t *testing.T) {
		routes, err := parseProcIPv6Route([]byte(long + "\n00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000064 00000001 00000000 00000003 wlan0\n"))
		if err != nil {
			t.Fatal(err)
		}
		if dev, ok := lookupRoute(routes, netipAddr(probeIPv6)); !ok || dev != "wlan0" {
			t.Errorf("route to %s via %q, %t; want wlan0", probeIPv6, dev, ok)
		}
	})
	t.Run("route get's interface after a long line is read", func(t *testing.T) {
		if i, err := parseBSDRouteGet([]byte(long + "\n  interface: en0\n")); err != nil || i != "en0" {
			t.Errorf("interface %q, %v; want en0", i, err)
		}
	})
	t.Run("a VPN service after a long line is listed", func(t *testing.T) {
		svcs := parseSCUtilNCList([]byte(long + "\n* (Connected)      3F2504E0-4F89-41D3-9A0C-0305E82C3301 VPN (com.wireguard.macos) \"Example Corp WG\" [VPN:com.wireguard.macos]\n"))
		if len(svcs) != 1 || !svcs[0].Connected {
			t.Errorf("services %+v, want the connected WireGuard one", svcs)
		}
	})
	t.Run("the VPN's interface after a long line is read", func(t *testing.T) {
		if i := parseSCUtilNCStatusInterface([]byte(long + "\n  InterfaceName : utun3\n")); i != "utun3" {
			t.Errorf("interface %q, want utun3", i)
		}
	})
	t.Run("a tun device's holder after a long line is read", func(t *testing.T) {
		procs := parseTuntapShow([]byte(long + "\ntun0: tun one_queue\n\tAttached to processes:openvpn(1234)\n"))
		if len(procs["tun0"]) != 1 || procs["tun0"][0] != "openvpn" {
			t.Errorf("holders %q, want openvpn on tun0", procs)
		}
	})
	t.Run("wpa_cli's state after a long line is read", func(t *testing.T) {
		if st := parseWPACLIStatus([]byte(long + "\nwpa_state=COMPLETED\nkey_mgmt=SAE\n")); !st.connected() || st.KeyMgmt != "SAE" {
			t.Errorf("status %+v, want completed with SAE", st)
		}
	})
	t.Run("an xfrm policy's direction after a long line is read", func(t *testing.T) {
		pols, err := parseXfrmPolicies([]byte("src 0.0.0.0/0 dst 0.0.0.0/0 \n\t" + long + "\n\tdir out priority 100 ptype main \n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pols) != 1 || pols[0].dir != "out" || pols[0].priority != 100 {
			t.Errorf("policies %+v, want one outbound of priority 100", pols)
		}
	})
}
