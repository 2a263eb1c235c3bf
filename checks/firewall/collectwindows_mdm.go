package firewall

import "github.com/postern-dev/postern/checks/host"

// readMDMProfile reads one profile's Firewall CSP values. Windows stores
// them under FirewallPolicy\Mdm with the local store's subkey names
// (StandardProfile for Private); the CSP's own node name (PrivateProfile)
// is read as a fallback.
func readMDMProfile(h host.Host, w *WindowsFacts, local, csp string, p *WindowsProfile) {
	for _, sub := range dedupeKeys(local, csp) {
		if p.MDMEnabled == nil {
			p.MDMEnabled = regInt(h, w, mdmKey+sub, "EnableFirewall")
		}
		if p.MDMInbound == nil {
			p.MDMInbound = regInt(h, w, mdmKey+sub, "DefaultInboundAction")
		}
	}
}

func dedupeKeys(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
