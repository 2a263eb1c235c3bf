package screenlock

import (
	"fmt"
)

// Thresholds are the screen-lock rules.
type Thresholds struct {
	// MaxIdleSeconds is the longest idle time before the screen locks.
	MaxIdleSeconds int `yaml:"max_idle_seconds"`
	// RequirePassword demands a password (or equivalent) to unlock.
	RequirePassword bool `yaml:"require_password"`
}

// DefaultThresholds returns the Policy 550.04 defaults: 20 minutes, with
// a password.
func DefaultThresholds() any { return &Thresholds{MaxIdleSeconds: 1200, RequirePassword: true} }

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	if t.MaxIdleSeconds < 1 || t.MaxIdleSeconds > 86400 {
		return fmt.Errorf("max_idle_seconds must be between 1 and 86400")
	}
	return nil
}
