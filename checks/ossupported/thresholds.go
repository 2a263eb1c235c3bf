package ossupported

import (
	"github.com/postern-dev/postern/checks/osdata"
)

// Thresholds let the policy update the end-of-life table and decide
// whether paid or community extended support counts as supported.
type Thresholds struct {
	// Releases are end-of-life entries (same shape as releases.yaml) that
	// replace embedded entries with the same platform, version and
	// editions, or are added to the table.
	Releases osdata.Releases `yaml:"releases"`
	// ReplaceReleases makes Releases the whole table.
	ReplaceReleases bool `yaml:"replace_releases"`
	// AllowExtended accepts a release past its end of standard support
	// while an extension program covers it (Windows ESU, Ubuntu Pro ESM,
	// Debian LTS, SUSE LTSS). Default true.
	AllowExtended bool `yaml:"allow_extended"`
}

// DefaultThresholds returns the Policy 550.04 defaults: the embedded
// table, extended support accepted.
func DefaultThresholds() any { return &Thresholds{AllowExtended: true} }

// Validate reports thresholds that cannot be used. Entries are validated
// as they are decoded; an empty replacement table would judge every
// device unknown, which is refused.
func (t *Thresholds) Validate() error {
	if t.ReplaceReleases && len(t.Releases) == 0 {
		return errEmptyTable
	}
	return nil
}

// table is the embedded table with the policy's changes.
func (t *Thresholds) table() *osdata.Table {
	if len(t.Releases) == 0 && !t.ReplaceReleases {
		return osdata.Default()
	}
	return osdata.Default().WithReleases(t.Releases, t.ReplaceReleases)
}
