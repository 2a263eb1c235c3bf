package osautoupdate

import "fmt"

// Thresholds say how automatic updating must be.
type Thresholds struct {
	// Require is the least acceptable level: "download" (updates are
	// fetched automatically and security data files installed; the user
	// confirms the install) or "install" (installed without the user).
	Require string `yaml:"require"`
}

// DefaultThresholds returns the Policy 550.04 default: "download".
func DefaultThresholds() any { return &Thresholds{Require: LevelDownload} }

// Validate reports a level that is not download or install.
func (t *Thresholds) Validate() error {
	if t.Require != LevelDownload && t.Require != LevelInstall {
		return fmt.Errorf("require must be download or install, not %q", t.Require)
	}
	return nil
}
