package osautoupdate

import (
	"errors"
	"fmt"

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

// readDNFAutomatic reads the configuration file dnf-automatic would use.
// found is false when none exists; an error is a file that exists but
// cannot be read.
func readDNFAutomatic(h host.Host, m *Mechanism) (s dnfSettings, found bool, err error) {
	for _, p := range dnfAutomaticConfs {
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
	s, _, err := readDNFAutomatic(h, &m)
	if err != nil {
		m.Level, m.Reason = LevelUnknown, err.Error()
		return m
	}
	timer := anyTimer(h, dnfTimers...)
	m.set("timer", timerOrNone(timer), timersWants)
	switch timer {
	case "dnf-automatic-install.timer":
		m.Level, m.Reason = LevelInstall, "dnf-automatic-install.timer installs updates automatically"
	case "dnf-automatic.timer", "dnf5-automatic.timer":
		switch {
		case s.apply:
			m.Level, m.Reason = LevelInstall, timer+" runs with apply_updates = yes"
		case s.download:
			m.Level, m.Reason = LevelDownload, timer+" downloads updates but apply_updates is no"
		default:
			m.Level, m.Reason = LevelNotify, timer+" only reports available updates"
		}
	case "dnf-automatic-download.timer":
		m.Level, m.Reason = LevelDownload, "dnf-automatic-download.timer downloads updates but does not install them"
	case "dnf-automatic-notifyonly.timer":
		m.Level, m.Reason = LevelNotify, "dnf-automatic-notifyonly.timer only reports available updates"
	default:
		m.Level, m.Reason = LevelOff, "dnf-automatic is installed but none of its timers is enabled"
	}
	return m
}

func timerOrNone(t string) string {
	if t == "" {
		return "none enabled"
	}
	return t
}
