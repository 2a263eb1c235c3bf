package firewall

// Application Firewall global states (socketfilterfw "(State = N)" and
// com.apple.alf.plist globalstate).
const (
	ALFOff      = 0
	ALFOn       = 1
	ALFBlockAll = 2
)

// DarwinFacts is what the macOS collector saw.
type DarwinFacts struct {
	// State is the effective Application Firewall state (ALFOff, ALFOn,
	// ALFBlockAll), nil when no source could say. StateSource names the
	// source that decided: a managed profile wins over the machine's own
	// setting.
	State       *int   `json:"state"`
	StateSource string `json:"state_source"`
	// Managed is the configuration profile's EnableFirewall, when one is
	// installed.
	Managed *bool `json:"managed,omitempty"`
	// SocketFilterState and PlistState are the raw readings of
	// socketfilterfw --getglobalstate and com.apple.alf.plist globalstate
	// (absent on macOS 15 and later).
	SocketFilterState *int `json:"socketfilterfw_state,omitempty"`
	PlistState        *int `json:"plist_state,omitempty"`
	// BlockAll and Stealth are socketfilterfw's (or the profile's) block
	// all incoming connections and stealth mode settings.
	BlockAll *bool `json:"block_all,omitempty"`
	Stealth  *bool `json:"stealth,omitempty"`
	// PF is the packet filter, an alternative to the Application Firewall.
	PF *PFState `json:"pf,omitempty"`
	// Notes explains sources that could not be read.
	Notes []string `json:"notes,omitempty"`
}

// PFState is pf's state from pfctl.
type PFState struct {
	Enabled bool `json:"enabled"`
	// BlockRule is the loaded rule that blocks all inbound traffic, empty
	// when there is none.
	BlockRule string `json:"block_rule,omitempty"`
	// Reason explains a pf that could not be read.
	Reason string `json:"reason,omitempty"`
}
