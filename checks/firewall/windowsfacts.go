package firewall

// Windows Firewall profile names, as MSFT_NetFirewallProfile names them.
const (
	ProfileDomain  = "Domain"
	ProfilePrivate = "Private"
	ProfilePublic  = "Public"
)

// WindowsFacts is what the Windows collector saw.
type WindowsFacts struct {
	// Profiles are Domain, Private and Public, in that order.
	Profiles []WindowsProfile `json:"profiles"`
	// ActiveProfiles are the profiles of the connected networks (from
	// MSFT_NetConnectionProfile NetworkCategory). Nil when they could
	// not be read, and then every profile must be on.
	ActiveProfiles []string `json:"active_profiles"`
	// ActiveSource names where ActiveProfiles came from, or why they are
	// unknown.
	ActiveSource string `json:"active_source"`
	// Service is the Windows Defender Firewall service (mpssvc).
	Service ServiceState `json:"service"`
	// ThirdParty are the firewalls other than Windows' own registered in
	// Windows Security Center.
	ThirdParty []ThirdPartyFirewall `json:"third_party,omitempty"`
	// Notes explains sources that could not be read.
	Notes []string `json:"notes,omitempty"`
}

// WindowsProfile is one firewall profile with the value of each source and
// the effective result: group policy wins over MDM, MDM over the local
// setting.
type WindowsProfile struct {
	Name string `json:"name"`
	// Raw readings; nil when the source has no value. Registry values are
	// EnableFirewall (1 on, 0 off) and DefaultInboundAction (1 block, 0
	// allow); WMI's are Enabled (1 True, 0 False, 2 NotConfigured) and
	// DefaultInboundAction (0 NotConfigured, 2 Allow, 4 Block).
	PolicyEnabled *int64 `json:"policy_enabled,omitempty"`
	PolicyInbound *int64 `json:"policy_inbound,omitempty"`
	LocalEnabled  *int64 `json:"local_enabled,omitempty"`
	LocalInbound  *int64 `json:"local_inbound,omitempty"`
	// MDMEnabled and MDMInbound are the values an MDM (Intune) set
	// through the Firewall CSP; they win over the local store, and
	// group policy wins over them (the CSP's documented merge law).
	MDMEnabled *int64 `json:"mdm_enabled,omitempty"`
	MDMInbound *int64 `json:"mdm_inbound,omitempty"`
	WMIEnabled *int64 `json:"wmi_enabled,omitempty"`
	WMIInbound *int64 `json:"wmi_inbound,omitempty"`
	// Enabled and InboundBlocked are the effective values, nil when no
	// source could say; each source says which reading decided.
	Enabled        *bool  `json:"enabled"`
	EnabledSource  string `json:"enabled_source"`
	InboundBlocked *bool  `json:"inbound_blocked"`
	InboundSource  string `json:"inbound_source"`
	// Reason explains a nil effective value.
	Reason string `json:"reason,omitempty"`
	// DisabledInterfaces are the interfaces the profile's firewall is
	// turned off for (MSFT_NetFirewallProfile DisabledInterfaceAliases,
	// without Windows' "NotConfigured" placeholder).
	DisabledInterfaces []string `json:"disabled_interfaces,omitempty"`
}

// ServiceState is the firewall service's state.
type ServiceState struct {
	// Running is from Win32_Service State; nil when unread.
	Running *bool  `json:"running"`
	State   string `json:"state,omitempty"`
	// StartType is the registry Start value: 2 automatic, 3 manual, 4
	// disabled; nil when unread.
	StartType *int64 `json:"start_type,omitempty"`
	Source    string `json:"source"`
}

// ThirdPartyFirewall is a Windows Security Center FirewallProduct entry.
type ThirdPartyFirewall struct {
	Name         string `json:"name"`
	ProductState int64  `json:"product_state"`
	// On is bits 12-15 of productState equal to 1.
	On bool `json:"on"`
	// ExePresent says whether the product's signed executable is still on
	// disk: Security Center keeps the last state a product reported, even
	// after it is uninstalled. Nil when it could not be checked.
	ExePresent *bool  `json:"exe_present"`
	Timestamp  string `json:"timestamp,omitempty"`
}
