package ossupported

import (
	"github.com/postern-dev/postern/checks"
)

func init() {
	checks.Register(checks.Control{
		ID:                checks.OSSupported,
		Collect:           Collect,
		Evaluate:          Evaluate,
		DefaultThresholds: DefaultThresholds,
	})
}
