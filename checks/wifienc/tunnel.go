package wifienc

import "strings"

// linuxNameKinds maps interface name prefixes that VPN clients on Linux
// choose by default to the tunnel kind. Kinds from the kernel (uevent
// DEVTYPE) take precedence over names.
var linuxNameKinds = []struct{ prefix, kind string }{
	{"cscotun", KindAnyConnect},  // Cisco AnyConnect / Secure Client
	{"gpd", KindGlobalProtect},   // GlobalProtect for Linux
	{"tailscale", KindWireGuard}, // Tailscale (wireguard-go on a tun device)
	{"nordlynx", KindWireGuard},  // NordVPN's WireGuard
	{"wg", KindWireGuard},        // wg-quick and wireguard-go
	{"ipsec", KindIPsec},         // strongSwan/libreswan route-based (xfrm, vti)
	{"xfrm", KindIPsec},
	{"vti", KindIPsec},
	{"tun", KindTun}, // OpenVPN, OpenConnect, others
	{"tap", KindTun},
	{"vpn", KindVPN}, // NetworkManager VPN plugins
	{"ppp", KindPPP}, // pppd: PPTP, L2TP, openfortivpn
}

// linuxKindByName returns the kind suggested by a Linux interface name.
func linuxKindByName(ifname string) string {
	for _, nk := range linuxNameKinds {
		if strings.HasPrefix(ifname, nk.prefix) {
			return nk.kind
		}
	}
	return ""
}

// windowsDescKinds maps substrings of a Windows adapter's
// InterfaceDescription (its driver's name) to the tunnel kind.
var windowsDescKinds = []struct{ substr, kind string }{
	{"wireguard", KindWireGuard},
	{"tailscale", KindWireGuard},
	{"openvpn", KindOpenVPN},       // "OpenVPN Data Channel Offload", "OpenVPN Wintun"
	{"tap-windows", KindOpenVPN},   // OpenVPN's TAP driver
	{"anyconnect", KindAnyConnect}, // "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter"
	{"cisco secure client", KindAnyConnect},
	{"pangp", KindGlobalProtect}, // "PANGP Virtual Ethernet Adapter"
	{"globalprotect", KindGlobalProtect},
	{"fortinet", KindFortinet}, // "Fortinet SSL VPN Virtual Ethernet Adapter"
	{"forticlient", KindFortinet},
	{"wan miniport (ikev2)", KindIPsec}, // the built-in VPN client
	{"wan miniport (sstp)", KindSSTP},
	{"wan miniport (l2tp)", KindL2TP},
	{"wan miniport (pptp)", KindPPTP},
	{"wintun", KindTun},
}

// windowsKindByDescription returns the kind suggested by an adapter's
// description.
func windowsKindByDescription(desc string) string {
	low := strings.ToLower(desc)
	for _, dk := range windowsDescKinds {
		if strings.Contains(low, dk.substr) {
			return dk.kind
		}
	}
	return ""
}

// macServiceKinds maps the type of a macOS VPN service as `scutil --nc
// list` shows it in brackets ("IPSec", "PPP:L2TP", "VPN:com.wireguard.macos")
// to the tunnel kind; the VPN: entries are NetworkExtension bundle IDs.
var macServiceKinds = []struct{ prefix, kind string }{
	{"ipsec", KindIPsec},
	{"ppp:l2tp", KindIPsec}, // macOS's L2TP always runs over IPsec
	{"ppp:pptp", KindPPTP},
	{"vpn:com.apple.neplugin.ikev2", KindIPsec},
	{"vpn:com.wireguard.", KindWireGuard},
	{"vpn:io.tailscale.", KindWireGuard},
	{"vpn:net.openvpn.", KindOpenVPN},
	{"vpn:com.openvpn.", KindOpenVPN},
	{"vpn:com.cisco.anyconnect", KindAnyConnect},
	{"vpn:com.cisco.secureclient", KindAnyConnect},
	{"vpn:com.paloaltonetworks.globalprotect", KindGlobalProtect},
	{"vpn:com.fortinet.", KindFortinet},
	{"ppp", KindPPP},
	{"vpn", KindVPN},
}

// macKindByServiceType returns the kind of a macOS VPN service type.
func macKindByServiceType(typ string) string {
	low := strings.ToLower(typ)
	for _, mk := range macServiceKinds {
		if strings.HasPrefix(low, mk.prefix) {
			return mk.kind
		}
	}
	return KindVPN
}
