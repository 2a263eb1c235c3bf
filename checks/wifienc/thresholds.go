package wifienc

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Thresholds say which Wi-Fi security is acceptable, and which VPN tunnels
// make any Wi-Fi acceptable while they carry the traffic.
type Thresholds struct {
	// Allowed lists the acceptable security types: wpa2, wpa3 (and, to
	// relax the policy, owe, wpa, wep or open). Enterprise (802.1X) and
	// personal variants of a type are the same type.
	Allowed []string `yaml:"allowed"`
	// ApprovedVPNs lists the tunnels that make any Wi-Fi acceptable while
	// they carry every route to the internet. Each entry is a tunnel kind
	// (wireguard, openvpn, ipsec, anyconnect, globalprotect, openconnect,
	// fortinet, sstp, and the unidentified tun, ppp, vpn, tunnel, or pptp
	// and l2tp), `interface:PATTERN` matched against the interface name
	// (e.g. `interface:wg*`), or `name:PATTERN` matched case-insensitively
	// against the VPN service or adapter name (e.g. `name:Contoso VPN*`).
	// Patterns use path.Match syntax. An empty list approves no VPN.
	ApprovedVPNs []string `yaml:"approved_vpns"`
}

// Security types, from weakest to strongest.
const (
	SecOpen = "open"
	SecWEP  = "wep"
	SecWPA  = "wpa"
	SecOWE  = "owe"
	SecWPA2 = "wpa2"
	SecWPA3 = "wpa3"
)

var knownSecurity = []string{SecOpen, SecWEP, SecWPA, SecOWE, SecWPA2, SecWPA3}

// Tunnel kinds the collectors recognise.
const (
	KindWireGuard     = "wireguard"
	KindOpenVPN       = "openvpn"
	KindIPsec         = "ipsec"
	KindAnyConnect    = "anyconnect"
	KindGlobalProtect = "globalprotect"
	KindOpenConnect   = "openconnect"
	KindFortinet      = "fortinet"
	KindSSTP          = "sstp"
	KindL2TP          = "l2tp"
	KindPPTP          = "pptp"
	// KindTun, KindPPP, KindVPN and KindTunnel are tunnels whose client
	// could not be identified: a tun/tap device, a PPP link, an operating
	// system VPN service of unknown type, and an IP-in-IP or GRE tunnel
	// (which does not encrypt).
	KindTun    = "tun"
	KindPPP    = "ppp"
	KindVPN    = "vpn"
	KindTunnel = "tunnel"
)

var knownKinds = []string{
	KindWireGuard, KindOpenVPN, KindIPsec, KindAnyConnect, KindGlobalProtect,
	KindOpenConnect, KindFortinet, KindSSTP, KindL2TP, KindPPTP,
	KindTun, KindPPP, KindVPN, KindTunnel,
}

// DefaultApprovedVPNs are the tunnel kinds whose clients always encrypt
// with current cryptography. PPTP (broken MS-CHAPv2), L2TP without a known
// IPsec layer, plain IP tunnels and tunnels whose client is not identified
// are left out; a policy can add them, or narrow the list to the
// organisation's own VPN with `interface:` or `name:` entries.
var DefaultApprovedVPNs = []string{
	KindWireGuard, KindOpenVPN, KindIPsec, KindAnyConnect, KindGlobalProtect,
	KindOpenConnect, KindFortinet, KindSSTP,
}

// DefaultThresholds returns the Policy 550.04 defaults: WPA2 or WPA3, or
// any Wi-Fi while an encrypting VPN of a recognised kind carries the
// traffic.
func DefaultThresholds() any {
	return &Thresholds{
		Allowed:      []string{SecWPA2, SecWPA3},
		ApprovedVPNs: slices.Clone(DefaultApprovedVPNs),
	}
}

const maxPatternLen = 128

// Validate reports an unknown security type, an empty list, or a VPN entry
// that is not a known kind or a well-formed pattern.
func (t *Thresholds) Validate() error {
	if len(t.Allowed) == 0 {
		return fmt.Errorf("allowed must list at least one security type")
	}
	for _, a := range t.Allowed {
		if !slices.Contains(knownSecurity, a) {
			return fmt.Errorf("allowed: %q is not one of %s", a, strings.Join(knownSecurity, ", "))
		}
	}
	if len(t.ApprovedVPNs) > 64 {
		return fmt.Errorf("approved_vpns lists more than 64 entries")
	}
	for i, v := range t.ApprovedVPNs {
		// Kinds match whatever their case ("GlobalProtect" is
		// globalprotect): an administrator writes the product's name.
		if _, _, isPattern := splitVPN(v); !isPattern {
			t.ApprovedVPNs[i] = strings.ToLower(strings.TrimSpace(v))
		}
		if err := validateVPN(t.ApprovedVPNs[i]); err != nil {
			return fmt.Errorf("approved_vpns: %w", err)
		}
	}
	return nil
}

func validateVPN(v string) error {
	kind, pat, isPattern := splitVPN(v)
	if !isPattern {
		if !slices.Contains(knownKinds, kind) {
			return fmt.Errorf("%q is not a tunnel kind (%s) nor interface:PATTERN or name:PATTERN", v, strings.Join(knownKinds, ", "))
		}
		return nil
	}
	if pat == "" || len(pat) > maxPatternLen {
		return fmt.Errorf("%q: the pattern must have 1 to %d characters", v, maxPatternLen)
	}
	if _, err := path.Match(pat, ""); err != nil {
		return fmt.Errorf("%q: %w", v, err)
	}
	return nil
}

// splitVPN splits an approved_vpns entry into its prefix ("interface" or
// "name") and pattern; a bare kind has no pattern.
func splitVPN(v string) (prefix, pattern string, isPattern bool) {
	for _, p := range []string{"interface:", "name:"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			return strings.TrimSuffix(p, ":"), rest, true
		}
	}
	return v, "", false
}

// approves returns the approved_vpns entry that admits tun, if any.
func (t *Thresholds) approves(tun *Tunnel) (string, bool) {
	if tun == nil {
		return "", false
	}
	for _, v := range t.ApprovedVPNs {
		prefix, pat, isPattern := splitVPN(v)
		switch {
		case !isPattern:
			if strings.EqualFold(prefix, tun.Kind) {
				return v, true
			}
		case prefix == "interface":
			if ok, _ := path.Match(pat, tun.Interface); ok {
				return v, true
			}
		case prefix == "name":
			if tun.Name == "" {
				continue
			}
			if ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(tun.Name)); ok {
				return v, true
			}
		}
	}
	return "", false
}
