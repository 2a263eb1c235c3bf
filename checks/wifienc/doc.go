// Package wifienc is the `wifi_encryption` control (Policy 550.04 C.7.a.ix):
// the Wi-Fi network in use is WPA2 or WPA3, unless an approved VPN tunnel
// carries the traffic to the internet.
//
// The collectors read the security of the connected network from the
// operating system's own view of the association, never from the network's
// name, and they never record the name (SSID) or the access point's
// address (BSSID) in the facts: the server does not need them (minimum
// necessary). Each value records where it came from.
//
//   - Linux: the wireless interfaces from /sys/class/net/*/wireless and
//     phy80211, whether each is up from operstate; the security from
//     NetworkManager over D-Bus (`busctl --json=short`, the access point's
//     Flags, WpaFlags and RsnFlags bit fields), else from iwd over D-Bus
//     (Station.State, StationDiagnostic.GetDiagnostics' Security, and the
//     connected network's Type for open and WEP networks), else from
//     wpa_supplicant (`wpa_cli -i IF status`, key_mgmt and
//     pairwise_cipher). The route to the internet from `ip -j route get`
//     (which honours policy routing as used by wg-quick and strongSwan),
//     else from /proc/net/route and /proc/net/ipv6_route; tunnels are
//     recognised by /sys/class/net/IF/uevent (DEVTYPE=wireguard), a tun
//     device's holding process (`ip -d tuntap show`: openvpn, openconnect,
//     tailscaled...), the link type and the interface name. A route over an
//     ordinary interface still counts as IPsec when the kernel's outbound
//     xfrm policy (`ip xfrm policy list`) wraps all internet traffic from
//     the route's source address in ESP (policy-based strongSwan or
//     libreswan).
//   - Windows: adapters and routes from CIM (root\StandardCimv2
//     MSFT_NetAdapter, MSFT_NetRoute, MSFT_NetIPInterface); the
//     authentication and cipher from `netsh wlan show interfaces`, parsed by
//     structure so that every display language works. A connection of the
//     built-in VPN client (no adapter row, or a "WAN Miniport" adapter) is
//     named by its profile (root\Microsoft\Windows\RemoteAccess\Client
//     PS_VpnConnection: Name, TunnelType).
//   - macOS: `system_profiler -json SPAirPortDataType` for the security mode,
//     `route -n get` for the interface that carries internet traffic, and
//     `scutil --nc list` / `scutil --nc status` for the VPN service that
//     owns a utun, ipsec or ppp interface.
//
// Opportunistic Wireless Encryption (OWE, "Enhanced Open") is reported as
// its own security type "owe". It encrypts the radio link but authenticates
// nobody: anyone can run a look-alike network, so it is not the "secure and
// encrypted connection" of C.7.a.ix and is not allowed by default; a policy
// may allow it by listing "owe". Mixed and transition networks (WPA/WPA2,
// WPA2/WPA3) are reported as WPA2, the mode a current client uses on the
// first and the weakest the second still accepts; the detail says which.
//
// Evaluation is pure: no Wi-Fi in use is not_applicable; an allowed security
// type passes; otherwise the control passes only when an approved tunnel
// carries every internet route (IPv4 and, when present, IPv6), and the
// evidence names that tunnel. An insecure Wi-Fi that is connected while the
// default route is wired still fails: the device stays joined to the
// network and falls back to it as soon as the cable is pulled.
package wifienc
