package firewall

import (
	"context"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:       checks.Firewall,
		Collect:  Collect,
		Evaluate: Evaluate,
	})
}

// Collect gathers the firewall facts of h, choosing the collector by the
// host's OS so that a snapshot from any OS can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) { return collectors.Collect(ctx, h) }

var collectors = checks.PerOS[*Facts]{What: "firewall", Linux: collectLinux, Windows: collectWindows, Darwin: collectDarwin}
