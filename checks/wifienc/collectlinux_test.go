package wifienc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

const (
	nmDev = "/org/freedesktop/NetworkManager/Devices/3"
	nmAP  = "/org/freedesktop/NetworkManager/AccessPoint/12"
)

var (
	argvNMDevice = []string{"/usr/bin/busctl", "--json=short", "call", nmService, nmPath, nmService, "GetDeviceByIpIface", "s", "wlan0"}
	argvNMAP     = []string{"/usr/bin/busctl", "--json=short", "get-property", nmService, nmDev, nmWirelessIface, "ActiveAccessPoint"}
	argvNMFlags  = []string{"/usr/bin/busctl", "--json=short", "get-property", nmService, nmAP, nmAPIface, "Flags", "WpaFlags", "RsnFlags"}
	argvWPACLI   = []string{"/usr/sbin/wpa_cli", "-i", "wlan0", "status"}
	argvIPv4     = []string{"/usr/sbin/ip", "-j", "route", "get", probeIPv4}
	argvIPv6     = []string{"/usr/sbin/ip", "-j", "-6", "route", "get", probeIPv6}
	argvXfrm     = []string{"/usr/sbin/ip", "xfrm", "policy", "list"}
	argvTuntap   = []string{"/usr/sbin/ip", "-d", "tuntap", "show"}
	iwdDev       = "/net/connman/iwd/0/3"
	argvIWDState = []string{"/usr/bin/busctl", "--json=short", "get-property", iwdService, iwdDev, iwdStationIface, "State"}
	argvIWDDiag  = []string{"/usr/bin/busctl", "--json=short", "call", iwdService, iwdDev, iwdDiagnosticIface, "GetDiagnostics"}
	argvIWDNet   = []string{"/usr/bin/busctl", "--json=short", "get-property", iwdService, iwdDev, iwdStationIface, "ConnectedNetwork"}
	argvIWDType  = []string{"/usr/bin/busctl", "--json=short", "get-property", iwdService, "/net/connman/iwd/0/3/4578616d706c65436166654775657374_open", iwdNetworkIface, "Type"}
)

// laptop is a Linux machine with wlan0 up; routes and tunnels are added by
// each case.
func laptop(t testing.TB) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddGlob(sysNet+"*/wireless", []string{sysNet + "wlan0/wireless"}, nil).
		AddGlob(sysNet+"*/phy80211", []string{sysNet + "wlan0/phy80211"}, nil).
		AddFile(sysNet+"wlan0/operstate", []byte("up\n")).
		AddFile(sysNet+"wlan0/uevent", checktest.Testdata(t, "linux", "sys_uevent__wlan0.txt")).
		AddFile(sysNet+"wlan0/phy80211/index", []byte("0\n")).
		AddFile(sysNet+"wlan0/ifindex", []byte("3\n")).
		AddRun(argvXfrm, stdout(checktest.Testdata(t, "linux", "ip__xfrm_policy_none.txt")), nil).
		AddRun(argvIPv6, host.Output{Stderr: checktest.Testdata(t, "linux", "ip__route_get_v6_unreachable.stderr.txt"), ExitCode: 2}, nil)
}

// withNM answers NetworkManager's D-Bus questions with the access point
// flags sample.
func withNM(t testing.TB, f *host.Fake, flags string) *host.Fake {
	return f.AddRun(argvNMDevice, stdout(checktest.Testdata(t, "linux", "busctl__nm_device.txt")), nil).
		AddRun(argvNMAP, stdout(checktest.Testdata(t, "linux", "busctl__nm_active_ap.txt")), nil).
		AddRun(argvNMFlags, stdout(checktest.Testdata(t, "linux", flags)), nil)
}

func withoutNM(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvNMDevice, host.Output{Stderr: checktest.Testdata(t, "linux", "busctl__nm_not_running.stderr.txt"), ExitCode: 1}, nil).
		AddRun(argvIWDState, host.Output{Stderr: checktest.Testdata(t, "linux", "busctl__iwd_not_running.stderr.txt"), ExitCode: 1}, nil)
}

// withIWD answers as iwd does when it alone drives the radio:
// NetworkManager is absent, the station is connected and GetDiagnostics
// answers with the sample.
func withIWD(t testing.TB, f *host.Fake, diagnostics string) *host.Fake {
	return f.AddRun(argvNMDevice, host.Output{Stderr: checktest.Testdata(t, "linux", "busctl__nm_not_running.stderr.txt"), ExitCode: 1}, nil).
		AddRun(argvIWDState, stdout(checktest.Testdata(t, "linux", "busctl__iwd_station_connected.txt")), nil).
		AddRun(argvIWDDiag, stdout(checktest.Testdata(t, "linux", diagnostics)), nil).
		AddRun(argvIWDNet, stdout(checktest.Testdata(t, "linux", "busctl__iwd_connected_network_open.txt")), nil)
}

func viaWiFi(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(checktest.Testdata(t, "linux", "ip__route_get_v4_wifi.txt")), nil)
}

// viaTun routes through tun0, a tun device as OpenVPN creates (sysfs
// values recorded from a real tun device).
func viaTun(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(checktest.Testdata(t, "linux", "ip__route_get_v4_openvpn_def1.txt")), nil).
		AddFile(sysNet+"tun0/uevent", checktest.Testdata(t, "linux", "sys_uevent__tun0.txt")).
		AddStat(sysNet+"tun0/tun_flags", host.FileInfo{Name: "tun_flags", Mode: 0o444}, nil).
		AddFile(sysNet+"tun0/type", []byte("65534\n"))
}

// viaTunHeldBy routes through a tun device whose holder `ip -d tuntap
// show` reports (recorded: tun0 held by openvpn, tun1 by openconnect,
// tun7 persistent and held by nothing).
func viaTunHeldBy(t testing.TB, f *host.Fake, dev string) *host.Fake {
	route := bytes.ReplaceAll(checktest.Testdata(t, "linux", "ip__route_get_v4_openvpn_def1.txt"), []byte(`"tun0"`), []byte(`"`+dev+`"`))
	return f.AddRun(argvIPv4, stdout(route), nil).
		AddFile(sysNet+dev+"/uevent", checktest.Testdata(t, "linux", "sys_uevent__tun0.txt")).
		AddStat(sysNet+dev+"/tun_flags", host.FileInfo{Name: "tun_flags", Mode: 0o444}, nil).
		AddRun(argvTuntap, stdout(checktest.Testdata(t, "linux", "ip__tuntap_show_openvpn_openconnect.txt")), nil)
}

// viaXfrm routes through wlan0 by strongSwan's table 220 (source address
// the virtual IP 10.10.10.2) with the xfrm policies of the sample.
func viaXfrm(t testing.TB, f *host.Fake, policies string) *host.Fake {
	return f.AddRun(argvIPv4, stdout(checktest.Testdata(t, "linux", "ip__route_get_v4_strongswan_table220.txt")), nil).
		AddRun(argvXfrm, stdout(checktest.Testdata(t, "linux", policies)), nil)
}

// viaKernelWG routes through wg0 by policy routing, as wg-quick sets up,
// with wg0 a kernel WireGuard device.
func viaKernelWG(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(checktest.Testdata(t, "linux", "ip__route_get_v4_wg_policy.txt")), nil).
		AddFile(sysNet+"wg0/uevent", checktest.Testdata(t, "linux", "sys_uevent__wg0_kernel.txt")).
		AddFile(sysNet+"wg0/type", []byte("65534\n"))
}

func TestCollectLinux(t *testing.T) {
	tunApproved := &Thresholds{Allowed: []string{SecWPA2, SecWPA3}, ApprovedVPNs: []string{"interface:tun*"}}
	onlyCorpVPN := &Thresholds{Allowed: []string{SecWPA2, SecWPA3}, ApprovedVPNs: []string{"name:Example Corp*"}}
	tests := []struct {
		name        string
		host        *host.Fake
		th          *Thresholds
		want        checks.Status
		wantSummary string
	}{
		{"a WPA2-Personal network seen by NetworkManager passes",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa2_psk.txt")), nil,
			checks.StatusPass, "WPA2-Personal Wi-Fi on wlan0"},
		{"a WPA3 network passes",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa3_sae.txt")), nil,
			checks.StatusPass, "WPA3-Personal Wi-Fi on wlan0"},
		{"a WPA2/WPA3 transition network counts as WPA2",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa2_wpa3_transition.txt")), nil,
			checks.StatusPass, "WPA2-Personal"},
		{"an 802.1X network is WPA2-Enterprise",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa2_enterprise.txt")), nil,
			checks.StatusPass, "WPA2-Enterprise"},
		{"an open network without a VPN fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), nil,
			checks.StatusFail, "open (no encryption) Wi-Fi on wlan0 and no VPN carries the traffic (ipv4 goes out through wlan0)"},
		{"a WEP network fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wep.txt")), nil,
			checks.StatusFail, "WEP Wi-Fi on wlan0"},
		{"a WPA1 (TKIP) network fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa1_tkip.txt")), nil,
			checks.StatusFail, "WPA-Personal Wi-Fi on wlan0"},
		{"an OWE network fails by default",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_owe.txt")), nil,
			checks.StatusFail, "OWE (encrypted, unauthenticated) Wi-Fi on wlan0"},
		{"an OWE network passes when the policy allows owe",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_owe.txt")), &Thresholds{Allowed: []string{SecWPA2, SecWPA3, SecOWE}},
			checks.StatusPass, "OWE"},
		{"an open network passes while a kernel WireGuard tunnel carries the traffic by policy routing",
			viaKernelWG(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), nil,
			checks.StatusPass, "approved VPN wg0 (wireguard)"},
		{"an open network fails when the route goes through an unidentified tun device",
			viaTun(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), nil,
			checks.StatusFail, "the tunnel tun0 (tun) carrying ipv4 is not an approved VPN"},
		{"an open network passes through tun0 when the policy approves interface:tun*",
			viaTun(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), tunApproved,
			checks.StatusPass, "approved VPN tun0 (tun)"},
		{"a name pattern cannot approve a tunnel that has no name",
			viaKernelWG(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), onlyCorpVPN,
			checks.StatusFail, "not an approved VPN"},
		// wpa_supplicant's WPA2-PSK pass is the real capture in TestCollectLinuxRealWPACLI.
		{"without NetworkManager wpa_supplicant's open network fails",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(checktest.Testdata(t, "linux", "wpa_cli__status_open.txt")), nil)), nil,
			checks.StatusFail, "open (no encryption) Wi-Fi on wlan0"},
		{"without NetworkManager wpa_supplicant's WEP network fails",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(checktest.Testdata(t, "linux", "wpa_cli__status_wep.txt")), nil)), nil,
			checks.StatusFail, "WEP Wi-Fi on wlan0"},
		{"neither NetworkManager nor wpa_supplicant answering is unknown with both reasons",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, host.Output{Stdout: checktest.Testdata(t, "linux", "wpa_cli__no_ctrl_socket.txt"), ExitCode: 255}, nil)), nil,
			checks.StatusUnknown, "NetworkManager: NetworkManager is not running; iwd: iwd is not running; wpa_supplicant: no wpa_supplicant control socket for wlan0"},
		{"no D-Bus and no wpa_cli is unknown",
			viaWiFi(t, laptop(t).AddRun(argvNMDevice, host.Output{Stderr: checktest.Testdata(t, "linux", "busctl__no_system_bus.stderr.txt"), ExitCode: 1}, nil).
				AddRun(argvIWDState, host.Output{Stderr: checktest.Testdata(t, "linux", "busctl__no_system_bus.stderr.txt"), ExitCode: 1}, nil)), nil,
			checks.StatusUnknown, "the D-Bus system bus is not reachable; iwd: the D-Bus system bus is not reachable; wpa_supplicant: wpa_cli is not installed"},
		{"iwd alone: a WPA2-Personal association passes",
			viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_wpa2_personal.txt")), nil,
			checks.StatusPass, "WPA2-Personal Wi-Fi on wlan0"},
		{"iwd alone: WPA3 with fast roaming passes",
			viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_wpa3_ft.txt")), nil,
			checks.StatusPass, "WPA3-Personal Wi-Fi on wlan0"},
		{"iwd alone: a WPA1 association fails",
			viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_wpa1.txt")), nil,
			checks.StatusFail, "WPA-Personal Wi-Fi on wlan0"},
		{"iwd alone: an open network (no Security diagnostic, Type open) fails",
			viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_open.txt").AddRun(argvIWDType, stdout(checktest.Testdata(t, "linux", "busctl__iwd_network_type_open.txt")), nil)), nil,
			checks.StatusFail, "open (no encryption) Wi-Fi on wlan0"},
		{"iwd alone: type psk without a Security diagnostic is unknown, not WPA2",
			viaWiFi(t, withIWD(t, laptop(t), "busctl__iwd_diagnostics_open.txt").AddRun(argvIWDType, stdout(checktest.Testdata(t, "linux", "busctl__iwd_network_type_psk.txt")), nil)), nil,
			checks.StatusUnknown, `iwd reports network type "psk", which does not tell WPA1 from WPA2 or WPA3`},
		{"iwd alone: a disconnected station is not applicable",
			withoutNM(t, laptop(t)).AddRun(argvIWDState, stdout(checktest.Testdata(t, "linux", "busctl__iwd_station_disconnected.txt")), nil), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use"},
		{"an open network passes while OpenVPN holds the tun device the route takes",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun0"), nil,
			checks.StatusPass, "approved VPN tun0 (openvpn)"},
		{"an OpenConnect tun device is named openconnect, not openvpn",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun1"), nil,
			checks.StatusPass, "approved VPN tun1 (openconnect)"},
		{"a persistent tun device no VPN client holds stays an unapproved tun",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun7"), nil,
			checks.StatusFail, "the tunnel tun7 (tun) carrying ipv4 is not an approved VPN"},
		{"an OpenConnect tun device is refused when the policy approves only openvpn",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun1"), &Thresholds{Allowed: []string{SecWPA2}, ApprovedVPNs: []string{KindOpenVPN}},
			checks.StatusFail, "tun1 (openconnect) carrying ipv4 is not an approved VPN"},
		{"an open network passes when strongSwan's xfrm policy wraps all traffic in ESP",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_strongswan_roadwarrior.txt"), nil,
			checks.StatusPass, "approved VPN wlan0 (ipsec, IPsec ESP tunnel to 203.0.113.1)"},
		{"a split IPsec tunnel (10.0.0.0/8 only) does not cover internet traffic",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_split_10_8.txt"), nil,
			checks.StatusFail, "no VPN carries the traffic (ipv4 goes out through wlan0)"},
		{"libreswan's split tunnel (real listing) does not cover internet traffic",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_libreswan_split_lsw2230.txt"), nil,
			checks.StatusFail, "no VPN carries the traffic (ipv4 goes out through wlan0)"},
		{"a blocking xfrm policy is not a tunnel, and a port-only ESP policy does not count",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_block_and_port.txt"), nil,
			checks.StatusFail, "no VPN carries the traffic"},
		{"optional ESP (level use) may send in the clear and does not count",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")).AddRun(argvXfrm, stdout(checktest.Testdata(t, "linux", "ip__xfrm_policy_level_use.txt")), nil), nil,
			checks.StatusFail, "no VPN carries the traffic"},
		{"xfrm policies the agent may not read leave an open network failing",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_none.txt").
				AddRun(argvXfrm, host.Output{Stderr: checktest.Testdata(t, "linux", "ip__xfrm_policy_denied.stderr.txt"), ExitCode: 1}, nil), nil,
			checks.StatusFail, "no VPN carries the traffic"},
		{"unreadable security still passes through an approved VPN",
			viaKernelWG(t, withoutNM(t, laptop(t))), nil,
			checks.StatusPass, "unreadable security on wlan0, but all internet traffic goes through the approved VPN wg0"},
		{"a Wi-Fi interface that is down is not applicable",
			laptop(t).AddFile(sysNet+"wlan0/operstate", []byte("down\n")), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use (wlan0 not connected)"},
		{"NetworkManager with no active access point is not applicable",
			laptop(t).AddRun(argvNMDevice, stdout(checktest.Testdata(t, "linux", "busctl__nm_device.txt")), nil).
				AddRun(argvNMAP, stdout(checktest.Testdata(t, "linux", "busctl__nm_no_active_ap.txt")), nil).
				AddFileError(sysNet+"wlan0/operstate", host.ErrPermission), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use"},
		{"a machine without Wi-Fi is not applicable",
			host.NewFake("linux", "amd64").AddGlob(sysNet+"*/wireless", nil, nil).AddGlob(sysNet+"*/phy80211", nil, nil).
				AddDir("/sys/class/net", []string{"enp0s31f6", "lo"}, nil), nil,
			checks.StatusNotApplicable, "no Wi-Fi interface on this device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, facts := collectAndEvaluate(t, tc.host, tc.th)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantSummary, facts)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "nmcli") {
				t.Errorf("remediation %q does not say how to fix it on Linux", res.Remediation)
			}
		})
	}
}

func TestCollectLinuxWithoutAnInterfaceListing(t *testing.T) {
	tests := []struct {
		name string
		h    *host.Fake
		want string
	}{
		{"a machine that answers no interface listing is unknown, not without Wi-Fi", host.NewFake("linux", "amd64"), "list the network interfaces"},
		{"an interface listing without even lo is no answer", host.NewFake("linux", "amd64").AddDir("/sys/class/net", []string{}, nil), "not even lo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if reason, _ := collectAndEvaluateErr(t, tc.h); !strings.Contains(reason, tc.want) {
				t.Errorf("unknown reason %q, want it to mention %q", reason, tc.want)
			}
		})
	}
}

func TestCollectLinuxRouteFallback(t *testing.T) {
	tests := []struct {
		name     string
		proc     string
		want     checks.Status
		wantNote string
	}{
		{"OpenVPN's two half routes win over the Wi-Fi default", "proc_net_route__openvpn_def1.txt", checks.StatusFail, "tun0 (tun)"},
		{"the main table alone sends traffic over the Wi-Fi", "proc_net_route__wifi.txt", checks.StatusFail, "goes out through wlan0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := withNM(t, laptop(t), "busctl__ap_flags_open.txt").
				AddFile(procRoute, checktest.Testdata(t, "linux", tc.proc)).
				AddFile(sysNet+"tun0/uevent", checktest.Testdata(t, "linux", "sys_uevent__tun0.txt")).
				AddStat(sysNet+"tun0/tun_flags", host.FileInfo{Name: "tun_flags", Mode: 0o444}, nil).
				AddFile(procIPv6Route, checktest.Testdata(t, "linux", "proc_net_ipv6_route__none.txt"))
			res, facts := collectAndEvaluate(t, h, nil)
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantNote) {
				t.Errorf("got %s %q, want %s mentioning %q\nfacts: %s", res.Status, res.Summary, tc.want, tc.wantNote, facts)
			}
			if !bytes.Contains(facts, []byte("policy routing is not visible")) {
				t.Errorf("facts do not note the fallback's blind spot: %s", facts)
			}
		})
	}
}

func TestCollectLinuxErrors(t *testing.T) {
	h := host.NewFake("linux", "amd64").
		AddGlob(sysNet+"*/wireless", nil, host.ErrPermission).
		AddGlob(sysNet+"*/phy80211", nil, host.ErrPermission)
	_, err := Collect(context.Background(), h)
	if err == nil || !errors.Is(err, host.ErrPermission) || !strings.Contains(err.Error(), "list the network interfaces") {
		t.Errorf("error = %v, want a permission error naming what failed", err)
	}
}

// TestLinuxTunnelEvidence checks that the facts say how each tunnel was
// recognised, and why an IPsec policy that matched did not count.
func TestLinuxTunnelEvidence(t *testing.T) {
	tests := []struct {
		name string
		host *host.Fake
		want []string
	}{
		{"the holder of the tun device is named",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun1"),
			[]string{`"kind":"openconnect"`, "ip -d tuntap show: held by openconnect"}},
		{"a tun device nothing holds says so",
			viaTunHeldBy(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "tun7"),
			[]string{`"kind":"tun"`, "no process holds it"}},
		{"the covering xfrm policy and its peer are named",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_strongswan_roadwarrior.txt"),
			[]string{`"kind":"ipsec"`, "dir out src 10.10.10.2/32 dst 0.0.0.0/0 priority 383615 requires ESP"}},
		{"a blocking policy is explained",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_block_and_port.txt"),
			[]string{"the matching xfrm policy blocks the traffic"}},
		{"optional ESP is explained",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")).
				AddRun(argvXfrm, stdout(checktest.Testdata(t, "linux", "ip__xfrm_policy_level_use.txt")), nil),
			[]string{"ESP is optional (level use)"}},
		{"unreadable policies are noted",
			viaXfrm(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt"), "ip__xfrm_policy_none.txt").
				AddRun(argvXfrm, host.Output{Stderr: checktest.Testdata(t, "linux", "ip__xfrm_policy_denied.stderr.txt"), ExitCode: 1}, nil),
			[]string{"the IPsec (xfrm) policies could not be read: ip exited 1: RTNETLINK answers: Operation not permitted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, facts := collectAndEvaluate(t, tc.host, nil)
			for _, w := range tc.want {
				if !bytes.Contains(facts, []byte(w)) {
					t.Errorf("facts lack %q: %s", w, facts)
				}
			}
		})
	}
}
