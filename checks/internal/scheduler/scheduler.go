// Package scheduler says whether the programs that run scheduled jobs on
// Linux are there to run them: a cron job or a systemd timer is a
// mechanism that does nothing when no cron daemon runs, or when systemd
// is not the init. Collectors that find a scheduled job ask here before
// counting it.
package scheduler

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// cronDaemons are the process names of cron implementations: Debian's
// cron, cronie's and busybox's crond, anacron.
var cronDaemons = map[string]bool{"cron": true, "crond": true, "anacron": true}

// cronPrograms are where they are installed.
var cronPrograms = []string{"/usr/sbin/cron", "/usr/sbin/crond", "/usr/bin/crond", "/usr/sbin/anacron"}

// maxProcesses bounds the /proc entries read.
const maxProcesses = 4096

// State is whether cron jobs run on this machine.
type State struct {
	// Known is false when it could not be told (no process table).
	Known bool
	// Runs is meaningful only when Known.
	Runs bool
	// Source says what was seen.
	Source string
}

// Cron reports whether a cron daemon is installed and running (the
// process table must show it).
func Cron(h host.Host) State {
	installed := ""
	for _, p := range cronPrograms {
		if _, err := h.Stat(p); err == nil {
			installed = p
			break
		}
	}
	if installed == "" {
		return State{Known: true, Source: "no cron daemon is installed (" + strings.Join(cronPrograms, ", ") + ")"}
	}
	names, err := processNames(h)
	if err != nil {
		return State{Source: fmt.Sprintf("%s is installed; whether it runs is unknown: %v", installed, err)}
	}
	for n := range names {
		if cronDaemons[n] {
			return State{Known: true, Runs: true, Source: fmt.Sprintf("%s is installed and a %s process runs", installed, n)}
		}
	}
	return State{Known: true, Source: fmt.Sprintf("%s is installed but not running (%d processes in /proc)", installed, len(names))}
}

// Systemd reports whether systemd is the running init (sd_booted(3)).
func Systemd(h host.Host) bool {
	_, err := h.Stat("/run/systemd/system")
	return err == nil
}

// processNames reads the command names of the processes in /proc.
func processNames(h host.Host) (map[string]bool, error) {
	comms, err := h.Glob("/proc/[0-9]*/comm")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	if len(comms) == 0 {
		return nil, errors.New("no process is listed in /proc")
	}
	if len(comms) > maxProcesses {
		comms = comms[:maxProcesses]
	}
	names := map[string]bool{}
	for _, c := range comms {
		if b, err := h.ReadFile(c); err == nil {
			names[path.Base(strings.TrimSpace(string(b)))] = true
		}
	}
	return names, nil
}

// Running reports which of names run, reading /proc.
func Running(h host.Host, names ...string) (map[string]bool, int, error) {
	all, err := processNames(h)
	if err != nil {
		return nil, 0, err
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = all[n]
	}
	return out, len(all), nil
}
