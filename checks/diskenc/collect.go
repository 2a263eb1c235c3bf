package diskenc

import (
	"context"
	"fmt"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:       checks.DiskEncryption,
		Collect:  Collect,
		Evaluate: Evaluate,
	})
}

// Collect gathers the disk-encryption facts of h, choosing the collector
// by the host's OS so that a snapshot from any OS can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) {
	switch h.GOOS() {
	case "linux":
		return collectLinux(ctx, h)
	case "windows":
		return collectWindows(ctx, h)
	case "darwin":
		return collectDarwin(ctx, h)
	}
	return nil, fmt.Errorf("disk encryption is not checked on %s", h.GOOS())
}
