package firewall

import (
	"context"
	"errors"

	"github.com/postern-dev/postern/checks/host"
)

// errNotYet is the honest answer of the collectors not written yet.
var errNotYet = errors.New("the firewall is not yet checked on this OS by this agent version")

// collectWindows will read each profile's state (Get-NetFirewallProfile /
// the registry); until then the control is unknown on Windows.
func collectWindows(context.Context, host.Host) (*Facts, error) { return nil, errNotYet }
