package cli

import (
	_ "github.com/postern-dev/postern/checks/catalog" // registers every control
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/host/live"
)

func liveHost() host.Host { return live.New() }

// collectDevice describes the machine.
var collectDevice = device.Collect

// isLive reports whether h reads this machine (not a replayed recording).
func isLive(h host.Host) bool {
	_, ok := h.(live.Host)
	return ok
}
