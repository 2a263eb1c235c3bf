package wifienc

import (
	"fmt"
)

// Thresholds say which Wi-Fi security is acceptable.
type Thresholds struct {
	// Allowed lists the acceptable security types: wpa2, wpa3 (and, to
	// relax the policy, wpa or wep).
	Allowed []string `yaml:"allowed"`
	// ApprovedVPNs names VPN clients or interfaces that make any Wi-Fi
	// acceptable while connected.
	ApprovedVPNs []string `yaml:"approved_vpns"`
}

// DefaultThresholds returns the Policy 550.04 defaults: WPA2 or WPA3, no
// approved VPN.
func DefaultThresholds() any {
	return &Thresholds{Allowed: []string{"wpa2", "wpa3"}, ApprovedVPNs: []string{}}
}

var knownSecurity = map[string]bool{"open": true, "wep": true, "wpa": true, "wpa2": true, "wpa3": true}

// Validate reports an unknown security type or an empty list.
func (t *Thresholds) Validate() error {
	if len(t.Allowed) == 0 {
		return fmt.Errorf("allowed must list at least one security type")
	}
	for _, a := range t.Allowed {
		if !knownSecurity[a] {
			return fmt.Errorf("allowed: %q is not one of open, wep, wpa, wpa2, wpa3", a)
		}
	}
	if len(t.ApprovedVPNs) > 64 {
		return fmt.Errorf("approved_vpns lists more than 64 entries")
	}
	return nil
}
