package passwordpolicy

// Facts is the effective password policy the collector found: each
// sub-rule with its value and the source that set it.
type Facts struct {
	// MinLength is the shortest password accepted, in characters.
	MinLength Setting `json:"min_length"`
	// MinClasses is how many of the four character classes (upper, lower,
	// digit, symbol) a new password must mix; 0 or 1 is no requirement.
	MinClasses Setting `json:"min_classes"`
	// MaxAgeDays is how long a password may be kept; 0 means it never expires.
	MaxAgeDays Setting `json:"max_age_days"`
	// History is how many previous passwords cannot be reused.
	History Setting `json:"history"`
	// LockoutThreshold is the failed sign-ins before the account locks;
	// 0 means it never locks.
	LockoutThreshold Setting `json:"lockout_threshold"`
	// Sources lists everything that was read.
	Sources []string `json:"sources"`
	// Notes are observations that explain the values.
	Notes []string `json:"notes,omitempty"`
}

// Setting is one sub-rule's effective value.
type Setting struct {
	// Value is meaningful only when Unknown is empty.
	Value int `json:"value"`
	// Source says what set the value, e.g. "/etc/security/pwquality.conf
	// minlen" or "secedit MinimumPasswordLength", or why the default applies.
	Source string `json:"source"`
	// Unknown is why the value could not be determined.
	Unknown string `json:"unknown,omitempty"`
	// Detail adds what else was seen (e.g. accounts whose own maximum
	// age is longer than the default for new accounts).
	Detail string `json:"detail,omitempty"`
}

// known returns a Setting with a value.
func known(v int, source string) Setting { return Setting{Value: v, Source: source} }

// unknown returns a Setting that could not be determined.
func unknown(reason string) Setting { return Setting{Unknown: reason} }
