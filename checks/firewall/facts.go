package firewall

// Facts is what the collector saw.
type Facts struct {
	// Source names the ruleset that was analysed: "nft -j list ruleset" or
	// "iptables-save".
	Source string `json:"source"`
	// IPv4Filtered and IPv6Filtered say whether a base input chain drops or
	// rejects new inbound traffic of that family.
	IPv4Filtered bool `json:"ipv4_filtered"`
	IPv6Filtered bool `json:"ipv6_filtered"`
	// IPv6Disabled is true when the kernel has IPv6 turned off
	// (/proc/sys/net/ipv6/conf/all/disable_ipv6 = 1 or no IPv6 at all).
	IPv6Disabled bool `json:"ipv6_disabled"`
	// InputChains are the base chains on the input hook and their outcome
	// for a new inbound packet that matches no exception.
	InputChains []Chain `json:"input_chains"`
	// UFW and Firewalld are the front-ends' own view, when installed.
	UFW       *FrontEnd `json:"ufw,omitempty"`
	Firewalld *FrontEnd `json:"firewalld,omitempty"`
	// Notes explains sources that could not be read.
	Notes []string `json:"notes,omitempty"`
	// Windows and Darwin hold the facts of those OSes; they are nil on
	// Linux, whose facts are the fields above.
	Windows *WindowsFacts `json:"windows,omitempty"`
	Darwin  *DarwinFacts  `json:"darwin,omitempty"`
}

// Chain is one base chain hooked on input.
type Chain struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	Policy string `json:"policy"`
	// Verdict is "drop" when unmatched new inbound traffic is dropped or
	// rejected (by the policy or a final rule), "accept" otherwise.
	Verdict string `json:"verdict"`
	// DecidedBy says what gave the verdict, e.g. "policy drop" or
	// "rule in filter_IN_public: reject".
	DecidedBy string `json:"decided_by"`
}

// FrontEnd is a firewall manager's state, each value with its source.
type FrontEnd struct {
	// Enabled is the configured state (ufw: ENABLED in /etc/ufw/ufw.conf).
	Enabled *bool `json:"enabled,omitempty"`
	// Active is the running state reported by the tool itself.
	Active *bool `json:"active,omitempty"`
	// Source lists where the values came from.
	Source string `json:"source"`
}
