package firewall

import (
	"context"

	"github.com/postern-dev/postern/checks/host"
)

// collectDarwin will read the Application Firewall's global state
// (socketfilterfw); until then the control is unknown on macOS.
func collectDarwin(context.Context, host.Host) (*Facts, error) { return nil, errNotYet }
