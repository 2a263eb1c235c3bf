package osautoupdate

import (
	"strings"
)

// dnfUnit is what the service a dnf-automatic timer starts will do: the
// configuration file its command line names and the command-line flags
// that override that file (dnf/automatic/main.py parse_arguments).
type dnfUnit struct {
	confPath string // "" for dnf5, which reads its own files
	install  *bool  // --installupdates / --no-installupdates
	download *bool  // --downloadupdates / --no-downloadupdates
}

// dnfServiceDefaults are the ExecStart lines the packages ship
// (rpm-software-management/dnf etc/systemd, dnf5's dnf5-automatic.service).
var dnfServiceDefaults = map[string]string{
	"dnf-automatic.service":            "/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer",
	"dnf-automatic-install.service":    "/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer --installupdates",
	"dnf-automatic-download.service":   "/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer --downloadupdates --no-installupdates",
	"dnf-automatic-notifyonly.service": "/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer --no-installupdates --no-downloadupdates",
	"dnf5-automatic.service":           "/usr/bin/dnf5 automatic --timer",
}

// timerTriggers are the [Timer] settings that make a timer elapse.
var timerTriggers = []string{"OnCalendar", "OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec"}

// parseDNFExec reads one ExecStart command line of a dnf-automatic service.
func parseDNFExec(line string) dnfUnit {
	var u dnfUnit
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return u
	}
	// systemd's prefixes (-, @, +, !, :) come before the executable.
	exe := strings.TrimLeft(fields[0], "-@+!:")
	args := fields[1:]
	if strings.HasSuffix(exe, "/dnf5") || exe == "dnf5" {
		if len(args) > 0 && args[0] == "automatic" {
			args = args[1:]
		}
	} else {
		u.confPath = dnfAutomaticConf // dnf-automatic's default
	}
	yes, no := true, false
	for _, a := range args {
		switch a {
		case "--installupdates":
			u.install = &yes
		case "--no-installupdates":
			u.install = &no
		case "--downloadupdates":
			u.download = &yes
		case "--no-downloadupdates":
			u.download = &no
		default:
			if !strings.HasPrefix(a, "-") && u.confPath != "" {
				u.confPath = strings.Trim(a, `"'`)
			}
		}
	}
	return u
}
