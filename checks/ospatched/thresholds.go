package ospatched

import (
	"fmt"
)

// Thresholds say how long a security update may wait.
type Thresholds struct {
	// MaxPendingDays is how many days an available security update may
	// stay uninstalled before the device fails.
	MaxPendingDays int `yaml:"max_pending_days"`
}

// DefaultThresholds returns the Policy 550.04 defaults: 14 days.
func DefaultThresholds() any { return &Thresholds{MaxPendingDays: 14} }

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	if t.MaxPendingDays < 0 || t.MaxPendingDays > 365 {
		return fmt.Errorf("max_pending_days must be between 0 and 365")
	}
	return nil
}
