package screenlock

import (
	"context"

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

// Collect gathers the screen-lock facts of h for its console user,
// choosing the collector by the host's OS so that a snapshot from any OS
// can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) {
	v, err := collectors.Collect(ctx, h)
	if f, ok := v.(*Facts); ok && f != nil {
		f.bound()
	}
	return v, err
}

var collectors = checks.PerOS[*Facts]{What: "the screen lock", Linux: collectLinux, Windows: collectWindows, Darwin: collectDarwin}
