package wifienc

import (
	"regexp"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// tunProcess matches one "name(pid)" of iproute2's "Attached to
// processes:" line; the names are the processes' comm (at most 15 bytes).
var tunProcess = regexp.MustCompile(`([^\s()]+)\((\d+)\)`)

// parseTuntapShow reads `ip -d tuntap show` into the names of the
// processes that hold each tun/tap device open. The text layout is used:
// iproute2 6.1 prints invalid JSON for the process list with -j.
func parseTuntapShow(out []byte) map[string][]string {
	procs := map[string][]string{}
	cur := ""
	for line := range textlines.Each(out) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Attached to processes:"); ok {
			if cur == "" {
				continue
			}
			for _, m := range tunProcess.FindAllStringSubmatch(rest, -1) {
				procs[cur] = append(procs[cur], m[1])
			}
			continue
		}
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") {
			if name, _, ok := strings.Cut(line, ":"); ok && name != "" {
				cur = name
				if _, seen := procs[cur]; !seen {
					procs[cur] = []string{}
				}
			}
		}
	}
	return procs
}

// linuxProcessKinds maps the process that holds a tun device to the VPN
// client it belongs to. NetworkManager's VPN plugins start the same
// programs (nm-openvpn-service runs openvpn, nm-openconnect-service runs
// openconnect), so the holder names the protocol however it was started.
var linuxProcessKinds = map[string]string{
	"openvpn":       KindOpenVPN,
	"openconnect":   KindOpenConnect,
	"tailscaled":    KindWireGuard,
	"wireguard-go":  KindWireGuard,
	"boringtun":     KindWireGuard,
	"boringtun-cli": KindWireGuard,
	"vpnagentd":     KindAnyConnect, // Cisco AnyConnect / Secure Client
	"PanGPS":        KindGlobalProtect,
}

// tunKindByProcesses returns the kind of VPN client among procs, "" when
// none is known, and ok false when known clients of different kinds hold
// the same device.
func tunKindByProcesses(procs []string) (kind, proc string, ok bool) {
	for _, p := range procs {
		k, known := linuxProcessKinds[p]
		if !known {
			continue
		}
		if kind != "" && k != kind {
			return "", "", false
		}
		kind, proc = k, p
	}
	return kind, proc, true
}
