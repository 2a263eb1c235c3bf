package ospatched

import (
	"context"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:                checks.OSPatched,
		Collect:           Collect,
		Evaluate:          Evaluate,
		DefaultThresholds: DefaultThresholds,
	})
}

// Collect reads the host's patch state, choosing the collector by the
// host's OS so that a snapshot of any OS can be checked anywhere. Slow
// searches for pending updates are cached per host (see Cache).
func Collect(ctx context.Context, h host.Host) (any, error) { return collectors.Collect(ctx, h) }

var collectors = checks.PerOS[*Facts]{What: "patches", Linux: collectLinux, Windows: collectWindows, Darwin: collectDarwin}
