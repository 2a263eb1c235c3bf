package antivirus

import (
	"fmt"
	"time"
)

// Thresholds say how fresh anti-virus definitions must be.
type Thresholds struct {
	// MaxDefinitionAge is the oldest the definitions may be, measured to
	// the time of evaluation.
	MaxDefinitionAge time.Duration `yaml:"max_definition_age"`
	// AcceptUpToDateFlag lets a product that reports only "definitions up
	// to date" without a time (a third-party product known only through
	// Windows Security Center, or an EDR agent without signature files)
	// count as current. Set it to false to require a measured age.
	AcceptUpToDateFlag bool `yaml:"accept_up_to_date_flag"`
}

// DefaultThresholds returns the Policy 550.04 defaults: 24 hours, and a
// vendor's up-to-date flag is accepted where no age exists.
func DefaultThresholds() any {
	return &Thresholds{MaxDefinitionAge: 24 * time.Hour, AcceptUpToDateFlag: true}
}

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	if t.MaxDefinitionAge < time.Hour || t.MaxDefinitionAge > 90*24*time.Hour {
		return fmt.Errorf("max_definition_age must be between 1h and 2160h")
	}
	return nil
}
