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
}

// DefaultThresholds returns the Policy 550.04 defaults: 24 hours.
func DefaultThresholds() any { return &Thresholds{MaxDefinitionAge: 24 * time.Hour} }

// Validate reports a threshold outside its sensible range.
func (t *Thresholds) Validate() error {
	if t.MaxDefinitionAge < time.Hour || t.MaxDefinitionAge > 90*24*time.Hour {
		return fmt.Errorf("max_definition_age must be between 1h and 2160h")
	}
	return nil
}
