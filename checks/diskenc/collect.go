package diskenc

import (
	"context"
	"errors"
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

// errNotYet is the honest answer of the collectors not written yet.
var errNotYet = errors.New("disk encryption is not yet checked on this OS by this agent version")

// Collect gathers the disk-encryption facts of h, choosing the collector
// by the host's OS so that a snapshot from any OS can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) {
	switch h.GOOS() {
	case "linux":
		return collectLinux(ctx, h)
	case "windows", "darwin":
		// BitLocker (Win32_EncryptableVolume) and FileVault (fdesetup
		// status) collectors come with the catalog issue.
		return nil, errNotYet
	}
	return nil, fmt.Errorf("disk encryption is not checked on %s", h.GOOS())
}
