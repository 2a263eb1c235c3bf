package osautoupdate

import (
	"context"
	"fmt"

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
func Collect(ctx context.Context, h host.Host) (any, error) {
	switch h.GOOS() {
	case "linux":
		return collectLinux(ctx, h)
	case "windows":
		return collectWindows(h)
	case "darwin":
		return collectDarwin(ctx, h)
	}
	return nil, fmt.Errorf("automatic updates are not checked on %s", h.GOOS())
}
