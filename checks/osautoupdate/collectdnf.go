package osautoupdate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// dnf-automatic configuration files, in the order the running
// dnf-automatic reads them. dnf5 (Fedora 41 and later) reads only the
// first of its two files that exists and ignores dnf4's
// /etc/dnf/automatic.conf, which an upgraded system may still carry
// (dnf5-plugins/automatic_plugin/automatic.cpp, pre_configure).
const (
	dnf5AutomaticEtc   = "/etc/dnf/dnf5-plugins/automatic.conf"
	dnf5AutomaticShare = "/usr/share/dnf5/dnf5-plugins/automatic.conf"
	dnfAutomaticConf   = "/etc/dnf/automatic.conf"
)

var dnfAutomaticConfs = []string{dnf5AutomaticEtc, dnf5AutomaticShare, dnfAutomaticConf}

var dnfTimers = []string{"dnf-automatic-install.timer", "dnf-automatic.timer", "dnf5-automatic.timer", "dnf-automatic-download.timer", "dnf-automatic-notifyonly.timer"}

// dnfAutomaticInstalled reports whether dnf-automatic (dnf4 or dnf5) is
// installed or scheduled.
func dnfAutomaticInstalled(h host.Host) bool {
	for _, p := range dnfAutomaticConfs {
		if exists(h, p) {
			return true
		}
	}
	return anyTimer(h, dnfTimers...) != ""
}

// dnfSettings are the [commands] settings dnf-automatic.timer obeys.
type dnfSettings struct {
	apply, download bool
}

// readDNFAutomatic reads the first of confs that exists, as
// dnf-automatic would. found is false when none exists; an error is a
// file that exists but cannot be read.
func readDNFAutomatic(h host.Host, m *Mechanism, confs []string) (s dnfSettings, found bool, err error) {
	for _, p := range confs {
		b, rerr := h.ReadFile(p)
		if errors.Is(rerr, host.ErrNotFound) {
			continue
		}
		if rerr != nil {
			return s, false, fmt.Errorf("read %s: %w", p, rerr)
		}
		cmds := parseINI(b)["commands"]
		s.apply, _ = iniBool(cmds["apply_updates"])
		s.download = true // the default of dnf4 and dnf5 alike
		if v, ok := iniBool(cmds["download_updates"]); ok {
			s.download = v
		}
		m.set("apply_updates", fmt.Sprint(s.apply), p)
		m.set("download_updates", fmt.Sprint(s.download), p)
		if t := cmds["upgrade_type"]; t != "" {
			m.set("upgrade_type", t, p)
		}
		return s, true, nil
	}
	return s, false, nil
}

func dnfMechanism(h host.Host) Mechanism {
	m := Mechanism{Name: "dnf-automatic"}
	timer := anyTimer(h, dnfTimers...)
	m.set("timer", timerOrNone(timer), timersWants)
	if timer == "" {
		if _, _, err := readDNFAutomatic(h, &m, dnfAutomaticConfs); err != nil {
			m.Level, m.Reason = LevelUnknown, err.Error()
			return m
		}
		m.Level, m.Reason = LevelOff, "dnf-automatic is installed but none of its timers is enabled"
		return m
	}
	// A drop-in (systemctl edit) can take the timer's schedule away.
	triggers := 0
	var timerFiles []string
	for _, k := range timerTriggers {
		var def []string
		if k == "OnCalendar" {
			def = []string{"*-*-* 6:00"} // every shipped dnf-automatic timer
		}
		tv, err := readUnitKey(h, timer, "Timer", k, def)
		if err != nil {
			m.Level, m.Reason = LevelUnknown, err.Error()
			return m
		}
		triggers += len(tv.values)
		timerFiles = tv.files
	}
	if triggers == 0 {
		m.set("schedule", "none", strings.Join(timerFiles, ", "))
		m.Level, m.Reason = LevelOff, timer+" is enabled but its OnCalendar (and every other trigger) is cleared ("+strings.Join(timerFiles, ", ")+"), so it never runs"
		return m
	}
	// The service the timer starts names the configuration file and can
	// override it with flags; a drop-in can change both.
	svc := strings.TrimSuffix(timer, ".timer") + ".service"
	ev, err := readUnitKey(h, svc, "Service", "ExecStart", []string{dnfServiceDefaults[svc]})
	if err != nil {
		m.Level, m.Reason = LevelUnknown, err.Error()
		return m
	}
	if len(ev.values) == 0 {
		m.Level, m.Reason = LevelOff, svc+" has no ExecStart left ("+strings.Join(ev.files, ", ")+"), so "+timer+" runs nothing"
		return m
	}
	exec := ev.values[len(ev.values)-1]
	execSource := "the packaged " + svc
	if len(ev.files) > 0 {
		execSource = strings.Join(ev.files, ", ")
	}
	m.set("exec_start", exec, execSource)
	u := parseDNFExec(exec)
	confs := dnfAutomaticConfs
	switch {
	case !ev.found && len(ev.files) == 0:
		// The packaged unit, not on this host's disk: the files in the
		// order either dnf reads them.
	case u.confPath != "":
		confs = []string{u.confPath}
	default:
		confs = []string{dnf5AutomaticEtc, dnf5AutomaticShare}
	}
	s, _, err := readDNFAutomatic(h, &m, confs)
	if err != nil {
		m.Level, m.Reason = LevelUnknown, err.Error()
		return m
	}
	install, download := timer+" runs with apply_updates = yes", timer+" downloads updates but apply_updates is no"
	if u.install != nil {
		s.apply = *u.install
		if s.apply {
			install = timer + " installs updates automatically (--installupdates)"
		} else {
			download = timer + " downloads updates but does not install them (--no-installupdates)"
		}
	}
	if u.download != nil {
		s.download = *u.download
	}
	if s.apply {
		s.download = true // dnf-automatic's imply()
	}
	switch {
	case s.apply:
		m.Level, m.Reason = LevelInstall, install
	case s.download:
		m.Level, m.Reason = LevelDownload, download
	default:
		m.Level, m.Reason = LevelNotify, timer+" only reports available updates"
	}
	return m
}

func timerOrNone(t string) string {
	if t == "" {
		return "none enabled"
	}
	return t
}
