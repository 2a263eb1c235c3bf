package osautoupdate

import (
	"context"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:                checks.OSAutoUpdate,
		Collect:           Collect,
		Evaluate:          Evaluate,
		DefaultThresholds: DefaultThresholds,
	})
}

// Collect reads how the host updates itself, choosing the collector by
// the host's OS so that a snapshot of any OS can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) { return collectors.Collect(ctx, h) }

var collectors = checks.PerOS[*Facts]{What: "automatic updates", Linux: collectLinux, Windows: func(_ context.Context, h host.Host) (*Facts, error) { return collectWindows(h) }, Darwin: collectDarwin}
