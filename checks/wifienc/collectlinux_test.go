package wifienc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
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
)

// laptop is a Linux machine with wlan0 up; routes and tunnels are added by
// each case.
func laptop(t testing.TB) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddGlob(sysNet+"*/wireless", []string{sysNet + "wlan0/wireless"}, nil).
		AddGlob(sysNet+"*/phy80211", []string{sysNet + "wlan0/phy80211"}, nil).
		AddFile(sysNet+"wlan0/operstate", []byte("up\n")).
		AddFile(sysNet+"wlan0/uevent", td(t, "linux", "sys_uevent__wlan0.txt")).
		AddRun(argvIPv6, host.Output{Stderr: td(t, "linux", "ip__route_get_v6_unreachable.stderr.txt"), ExitCode: 2}, nil)
}

// withNM answers NetworkManager's D-Bus questions with the access point
// flags sample.
func withNM(t testing.TB, f *host.Fake, flags string) *host.Fake {
	return f.AddRun(argvNMDevice, stdout(td(t, "linux", "busctl__nm_device.txt")), nil).
		AddRun(argvNMAP, stdout(td(t, "linux", "busctl__nm_active_ap.txt")), nil).
		AddRun(argvNMFlags, stdout(td(t, "linux", flags)), nil)
}

func withoutNM(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvNMDevice, host.Output{Stderr: td(t, "linux", "busctl__nm_not_running.stderr.txt"), ExitCode: 1}, nil)
}

func viaWiFi(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(td(t, "linux", "ip__route_get_v4_wifi.txt")), nil)
}

// viaTun routes through tun0, a tun device as OpenVPN creates (sysfs
// values recorded from a real tun device).
func viaTun(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(td(t, "linux", "ip__route_get_v4_openvpn_def1.txt")), nil).
		AddFile(sysNet+"tun0/uevent", td(t, "linux", "sys_uevent__tun0.txt")).
		AddStat(sysNet+"tun0/tun_flags", host.FileInfo{Name: "tun_flags", Mode: 0o444}, nil).
		AddFile(sysNet+"tun0/type", []byte("65534\n"))
}

// viaKernelWG routes through wg0 by policy routing, as wg-quick sets up,
// with wg0 a kernel WireGuard device.
func viaKernelWG(t testing.TB, f *host.Fake) *host.Fake {
	return f.AddRun(argvIPv4, stdout(td(t, "linux", "ip__route_get_v4_wg_policy.txt")), nil).
		AddFile(sysNet+"wg0/uevent", td(t, "linux", "sys_uevent__wg0_kernel.txt")).
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
			checks.StatusPass, "WPA2-Personal on wlan0"},
		{"a WPA3 network passes",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa3_sae.txt")), nil,
			checks.StatusPass, "WPA3-Personal on wlan0"},
		{"a WPA2/WPA3 transition network counts as WPA2",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa2_wpa3_transition.txt")), nil,
			checks.StatusPass, "WPA2-Personal"},
		{"an 802.1X network is WPA2-Enterprise",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa2_enterprise.txt")), nil,
			checks.StatusPass, "WPA2-Enterprise"},
		{"an open network without a VPN fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_open.txt")), nil,
			checks.StatusFail, "open (no encryption) on wlan0 Wi-Fi and no VPN carries the traffic (ipv4 goes out through wlan0)"},
		{"a WEP network fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wep.txt")), nil,
			checks.StatusFail, "WEP on wlan0"},
		{"a WPA1 (TKIP) network fails",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_wpa1_tkip.txt")), nil,
			checks.StatusFail, "WPA-Personal on wlan0"},
		{"an OWE network fails by default",
			viaWiFi(t, withNM(t, laptop(t), "busctl__ap_flags_owe.txt")), nil,
			checks.StatusFail, "OWE (encrypted, unauthenticated) on wlan0"},
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
		{"without NetworkManager wpa_supplicant's WPA2-PSK passes",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(td(t, "linux", "wpa_cli__status_wpa2_psk.txt")), nil)), nil,
			checks.StatusPass, "WPA2-Personal on wlan0"},
		{"without NetworkManager wpa_supplicant's open network fails",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(td(t, "linux", "wpa_cli__status_open.txt")), nil)), nil,
			checks.StatusFail, "open (no encryption) on wlan0"},
		{"without NetworkManager wpa_supplicant's WEP network fails",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, stdout(td(t, "linux", "wpa_cli__status_wep.txt")), nil)), nil,
			checks.StatusFail, "WEP on wlan0"},
		{"neither NetworkManager nor wpa_supplicant answering is unknown with both reasons",
			viaWiFi(t, withoutNM(t, laptop(t)).AddRun(argvWPACLI, host.Output{Stdout: td(t, "linux", "wpa_cli__no_ctrl_socket.txt"), ExitCode: 255}, nil)), nil,
			checks.StatusUnknown, "NetworkManager: NetworkManager is not running; wpa_supplicant: no wpa_supplicant control socket for wlan0"},
		{"no D-Bus and no wpa_cli is unknown",
			viaWiFi(t, laptop(t).AddRun(argvNMDevice, host.Output{Stderr: td(t, "linux", "busctl__no_system_bus.stderr.txt"), ExitCode: 1}, nil)), nil,
			checks.StatusUnknown, "the D-Bus system bus is not reachable; wpa_supplicant: wpa_cli is not installed"},
		{"unreadable security still passes through an approved VPN",
			viaKernelWG(t, withoutNM(t, laptop(t))), nil,
			checks.StatusPass, "unreadable security on wlan0, but all internet traffic goes through the approved VPN wg0"},
		{"a Wi-Fi interface that is down is not applicable",
			laptop(t).AddFile(sysNet+"wlan0/operstate", []byte("down\n")), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use (wlan0 not connected)"},
		{"NetworkManager with no active access point is not applicable",
			laptop(t).AddRun(argvNMDevice, stdout(td(t, "linux", "busctl__nm_device.txt")), nil).
				AddRun(argvNMAP, stdout(td(t, "linux", "busctl__nm_no_active_ap.txt")), nil).
				AddFileError(sysNet+"wlan0/operstate", host.ErrPermission), nil,
			checks.StatusNotApplicable, "no Wi-Fi in use"},
		{"a snapshot that recorded no interface listing is not applicable",
			host.NewFake("linux", "amd64"), nil,
			checks.StatusNotApplicable, "no Wi-Fi interface on this device"},
		{"a machine without Wi-Fi is not applicable",
			host.NewFake("linux", "amd64").AddGlob(sysNet+"*/wireless", nil, nil).AddGlob(sysNet+"*/phy80211", nil, nil), nil,
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
				AddFile(procRoute, td(t, "linux", tc.proc)).
				AddFile(sysNet+"tun0/uevent", td(t, "linux", "sys_uevent__tun0.txt")).
				AddStat(sysNet+"tun0/tun_flags", host.FileInfo{Name: "tun_flags", Mode: 0o444}, nil).
				AddFile(procIPv6Route, td(t, "linux", "proc_net_ipv6_route__none.txt"))
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
