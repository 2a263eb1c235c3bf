package wmirow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// Query runs one WMI query under its own timeout and turns the two
// failures a collector must explain into unknown reasons a person can act
// on: a timeout, and access denied (deniedHint says who may read it, e.g.
// "the agent is not running as SYSTEM"). Both keep their host sentinel.
func Query(ctx context.Context, h host.Host, ns, q string, timeout time.Duration, deniedHint string) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := h.WMI(ctx, ns, q)
	switch {
	case err == nil:
		return rows, nil
	case errors.Is(err, host.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return nil, host.Wrap(host.ErrTimeout, fmt.Errorf("wmi query in %s timed out after %s", ns, timeout))
	case errors.Is(err, host.ErrPermission):
		return nil, host.Wrap(host.ErrPermission, fmt.Errorf("wmi query in %s: access denied (%s)", ns, deniedHint))
	}
	return nil, err
}
