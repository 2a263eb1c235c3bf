package osautoupdate

import "github.com/postern-dev/postern/checks/internal/ini"

// parseINI and iniBool are the shared dnf INI reader's.
var (
	parseINI = ini.Parse
	iniBool  = ini.Bool
)
