package checks

import (
	"context"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
)

// PerOS holds a control's collectors, one per OS. Collect picks one by the
// host's OS at run time, never by build tag, so a snapshot recorded on any
// OS is checked on any other, and Windows and macOS logic is tested on
// Linux.
type PerOS[F any] struct {
	// What names the control in the error for an OS without a collector,
	// e.g. "anti-virus" in "anti-virus is not checked on freebsd".
	What                   string
	Linux, Windows, Darwin func(context.Context, host.Host) (F, error)
}

// Collect runs the collector for h's OS.
func (p PerOS[F]) Collect(ctx context.Context, h host.Host) (any, error) {
	var fn func(context.Context, host.Host) (F, error)
	switch h.GOOS() {
	case "linux":
		fn = p.Linux
	case "windows":
		fn = p.Windows
	case "darwin":
		fn = p.Darwin
	}
	if fn == nil {
		return nil, fmt.Errorf("%s is not checked on %s", p.What, h.GOOS())
	}
	f, err := fn(ctx, h)
	if err != nil {
		return nil, err
	}
	return f, nil
}
