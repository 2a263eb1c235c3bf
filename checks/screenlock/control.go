package screenlock

import (
	"context"
	"errors"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:                checks.ScreenLock,
		Collect:           Collect,
		Evaluate:          Evaluate,
		DefaultThresholds: DefaultThresholds,
	})
}

// ErrNotYetChecked is the honest answer of this version's collector.
var ErrNotYetChecked = errors.New("not yet checked by this agent version (the catalog issue adds it)")

// Collect does not read the machine yet: it returns ErrNotYetChecked so
// that the control is unknown rather than silently passing.
func Collect(context.Context, host.Host) (any, error) { return nil, ErrNotYetChecked }

// Evaluate is unknown for any facts until this control's evaluator exists.
func Evaluate(checks.EvalInput) checks.Result {
	return checks.Unknown("this agent version does not evaluate the control yet")
}
