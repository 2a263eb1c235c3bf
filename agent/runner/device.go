package runner

import "github.com/postern-dev/postern/checks/device"

// defaultDevice describes the machine when Config.Device is nil.
var defaultDevice = device.Collect
