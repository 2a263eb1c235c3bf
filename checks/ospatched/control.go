package ospatched

import (
	"context"
	"fmt"

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
func Collect(ctx context.Context, h host.Host) (any, error) {
	switch h.GOOS() {
	case "linux":
		return collectLinux(ctx, h)
	case "windows":
		return collectWindows(ctx, h)
	case "darwin":
		return collectDarwin(ctx, h)
	}
	return nil, fmt.Errorf("patches are not checked on %s", h.GOOS())
}
