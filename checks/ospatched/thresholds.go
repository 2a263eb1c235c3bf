package ospatched

import (
	"fmt"

	"github.com/postern-dev/postern/checks/osdata"
)

// Thresholds say how long a security update may wait, and the patch
// baselines a build must reach.
type Thresholds struct {
	// MaxPendingDays is how many days an available security update may
	// stay uninstalled before the device fails.
	MaxPendingDays int `yaml:"max_pending_days"`
	// MaxDaysSinceLastPatch bounds, when pending updates cannot be
	// listed, how old the last installed patch (or a met baseline) may be
	// for the baseline alone to pass: a monthly cycle plus the grace.
	MaxDaysSinceLastPatch int `yaml:"max_days_since_last_patch"`
	// Baselines replace embedded baselines of the same platform and
	// version, or are added (same shape as releases.yaml's baselines).
	Baselines osdata.Baselines `yaml:"baselines"`
	// ReplaceBaselines makes Baselines the whole list.
	ReplaceBaselines bool `yaml:"replace_baselines"`
}

// DefaultThresholds returns the Policy 550.04 defaults: 14 days, 45 days.
func DefaultThresholds() any { return &Thresholds{MaxPendingDays: 14, MaxDaysSinceLastPatch: 45} }

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	if t.MaxPendingDays < 0 || t.MaxPendingDays > 365 {
		return fmt.Errorf("max_pending_days must be between 0 and 365")
	}
	if t.MaxDaysSinceLastPatch < 1 || t.MaxDaysSinceLastPatch > 365 {
		return fmt.Errorf("max_days_since_last_patch must be between 1 and 365")
	}
	return nil
}

func (t *Thresholds) table() *osdata.Table {
	if len(t.Baselines) == 0 && !t.ReplaceBaselines {
		return osdata.Default()
	}
	return osdata.Default().WithBaselines(t.Baselines, t.ReplaceBaselines)
}
