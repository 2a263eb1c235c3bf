package passwordpolicy

import (
	"fmt"
)

// Thresholds are the password rules of Policy 550.04 C.6.a.
type Thresholds struct {
	// MinLength is the shortest password allowed.
	MinLength int `yaml:"min_length"`
	// MinClasses is how many of the four character classes (upper, lower,
	// digit, symbol) a password must mix.
	MinClasses int `yaml:"min_classes"`
	// MaxAgeDays is the longest a password may be kept.
	MaxAgeDays int `yaml:"max_age_days"`
	// History is how many previous passwords may not be reused.
	History int `yaml:"history"`
	// LockoutThreshold is the most failed sign-ins before the account locks.
	LockoutThreshold int `yaml:"lockout_threshold"`
}

// DefaultThresholds returns the Policy 550.04 defaults.
func DefaultThresholds() any {
	return &Thresholds{MinLength: 8, MinClasses: 3, MaxAgeDays: 90, History: 6, LockoutThreshold: 5}
}

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	switch {
	case t.MinLength < 1 || t.MinLength > 128:
		return fmt.Errorf("min_length must be between 1 and 128")
	case t.MinClasses < 1 || t.MinClasses > 4:
		return fmt.Errorf("min_classes must be between 1 and 4")
	case t.MaxAgeDays < 1 || t.MaxAgeDays > 3650:
		return fmt.Errorf("max_age_days must be between 1 and 3650")
	case t.History < 0 || t.History > 48:
		return fmt.Errorf("history must be between 0 and 48")
	case t.LockoutThreshold < 1 || t.LockoutThreshold > 999:
		return fmt.Errorf("lockout_threshold must be between 1 and 999")
	}
	return nil
}
