package osautoupdate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/aptconfig"
	"github.com/postern-dev/postern/checks/internal/scheduler"
)

// Linux sources, by absolute path.
const (
	aptGetPath     = "/usr/bin/apt-get"
	aptConfigPath  = "/usr/bin/apt-config"
	unattendedPath = "/usr/bin/unattended-upgrade"
	systemdRunDir  = "/run/systemd/system"
	systemdEtc     = "/etc/systemd/system/"
	timersWants    = "/etc/systemd/system/timers.target.wants/"
	aptCompatCron  = "/etc/cron.daily/apt-compat"
	rpmOstreedConf = "/etc/rpm-ostreed.conf"
	gnomeSoftware  = "/usr/bin/gnome-software"
)

// APT::Periodic keys.
const (
	keyEnable     = "APT::Periodic::Enable"
	keyUpdate     = "APT::Periodic::Update-Package-Lists"
	keyDownload   = "APT::Periodic::Download-Upgradeable-Packages"
	keyUnattended = "APT::Periodic::Unattended-Upgrade"
)

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{}
	if exists(h, aptGetPath) {
		f.Checked = append(f.Checked, "unattended-upgrades (APT::Periodic)")
		f.Mechanisms = append(f.Mechanisms, aptMechanism(ctx, h))
	}
	if dnfAutomaticInstalled(h) {
		f.Checked = append(f.Checked, "dnf-automatic")
		f.Mechanisms = append(f.Mechanisms, dnfMechanism(h))
	} else {
		f.Checked = append(f.Checked, "dnf-automatic (not installed)")
	}
	if m, ok := ostreeMechanism(h); ok {
		f.Mechanisms = append(f.Mechanisms, m)
	}
	suseMechanisms(h, f)
	if exists(h, gnomeSoftware) {
		f.Mechanisms = append(f.Mechanisms, Mechanism{Name: "GNOME Software", Level: LevelNotify, Weak: true,
			Reason: "GNOME Software is installed; it checks for updates and offers them to the user (its per-user settings are not read)"})
	}
	if len(f.Mechanisms) == 0 {
		// "None found" is a fact only when looking for them worked.
		for _, p := range []string{aptGetPath, dnfAutomaticConf, rpmOstreedConf, gnomeSoftware} {
			if _, err := h.Stat(p); err != nil && !errors.Is(err, host.ErrNotFound) {
				return nil, fmt.Errorf("could not tell which update mechanisms are installed: %w", err)
			}
		}
	}
	return f, nil
}

func exists(h host.Host, p string) bool {
	_, err := h.Stat(p)
	return err == nil
}

// timerState says whether a systemd timer is enabled (linked into
// timers.target.wants) and not masked, and systemd, which runs timers, is
// the init: an enabled timer in a container or chroot runs nothing.
func timerEnabled(h host.Host, unit string) bool {
	if !scheduler.Systemd(h) {
		return false
	}
	if fi, err := h.Stat(systemdEtc + unit); err == nil && fi.Link == "/dev/null" {
		return false
	}
	// `systemctl enable` links the unit into the wants directory; an entry
	// that is no link enables nothing.
	fi, err := h.Stat(timersWants + unit)
	return err == nil && fi.Link != ""
}

// anyTimer returns the first enabled timer of units.
func anyTimer(h host.Host, units ...string) string {
	for _, u := range units {
		if timerEnabled(h, u) {
			return u
		}
	}
	return ""
}

func aptMechanism(ctx context.Context, h host.Host) Mechanism {
	m := Mechanism{Name: "unattended-upgrades"}
	conf, source, err := aptPeriodic(ctx, h)
	if err != nil {
		m.Level, m.Reason = LevelUnknown, err.Error()
		return m
	}
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "APT::Periodic::") {
			m.set(strings.TrimPrefix(k, "APT::Periodic::"), conf[k], source)
		}
	}
	origins := append(aptList(conf, keyOriginsPattern), aptList(conf, keyAllowedOrigins)...)
	m.set("origins", fmt.Sprintf("%d (Origins-Pattern and Allowed-Origins)", len(origins)), source)
	on := func(k string) bool {
		v, ok := periodicOn(conf[k])
		return ok && v
	}
	if v, set := conf[keyEnable]; set {
		if en, ok := periodicOn(v); ok && !en {
			m.Level, m.Reason = LevelOff, "APT::Periodic::Enable is 0: apt's periodic jobs are off"
			return m
		}
	}
	daily, upgrade := aptSchedulers(h, &m)
	installed := exists(h, unattendedPath)
	switch {
	case on(keyUnattended) && installed && upgrade && len(origins) == 0:
		// It runs every day and installs nothing: every package's origin
		// is outside an empty allow list.
		m.Level, m.Reason = levelFor(on(keyDownload) && daily, on(keyUpdate) && daily), "unattended-upgrades runs but Unattended-Upgrade::Origins-Pattern and Allowed-Origins are empty, so it installs nothing"
	case on(keyUnattended) && installed && upgrade:
		m.Level, m.Reason = LevelInstall, "unattended-upgrades installs updates automatically"
	case on(keyUnattended) && !installed:
		m.Level, m.Reason = levelFor(on(keyDownload) && daily, on(keyUpdate) && daily), "APT::Periodic::Unattended-Upgrade is on but the unattended-upgrades package is not installed"
	case on(keyUnattended) && !upgrade && !exists(h, systemdRunDir):
		m.Level, m.Reason = LevelOff, "unattended-upgrades is configured but nothing runs it: systemd is not the init and cron does not run /etc/cron.daily/apt-compat ("+m.Settings["scheduler"]+")"
	case on(keyUnattended) && !upgrade:
		m.Level, m.Reason = LevelOff, "unattended-upgrades is configured but apt-daily-upgrade.timer is disabled or masked"
	case on(keyDownload) && daily:
		m.Level, m.Reason = LevelDownload, "apt downloads updates daily but does not install them"
	case on(keyUpdate) && daily:
		m.Level, m.Reason = LevelNotify, "apt refreshes package lists daily but neither downloads nor installs updates"
	default:
		m.Level, m.Reason = LevelOff, "APT::Periodic::Unattended-Upgrade is not enabled"
	}
	return m
}

func levelFor(download, update bool) string {
	switch {
	case download:
		return LevelDownload
	case update:
		return LevelNotify
	}
	return LevelOff
}

// aptSchedulers reports whether the daily list refresh and the daily
// upgrade run: systemd timers where systemd is the init, else cron.
func aptSchedulers(h host.Host, m *Mechanism) (daily, upgrade bool) {
	if !exists(h, systemdRunDir) {
		// Without systemd apt's daily job is cron's apt-compat, which
		// does nothing unless a cron daemon runs it.
		job := exists(h, aptCompatCron)
		c := scheduler.Cron(h)
		m.set("scheduler", fmt.Sprintf("cron apt-compat present=%t; %s", job, c.Source), aptCompatCron)
		cron := job && c.Known && c.Runs
		return cron, cron
	}
	daily, upgrade = timerEnabled(h, "apt-daily.timer"), timerEnabled(h, "apt-daily-upgrade.timer")
	m.set("apt-daily.timer", enabledWord(daily), timersWants)
	m.set("apt-daily-upgrade.timer", enabledWord(upgrade), timersWants)
	return daily, upgrade
}

func enabledWord(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

// aptPeriodic returns the effective APT::Periodic settings: from
// `apt-config dump` (apt's own merge of every file), else by reading
// apt's files in apt's order (aptconfig.ReadFiles: the parts directory,
// then the main file, each where the configuration puts it). A file that
// could not be read may be the one that turns updates off, so it makes
// the settings unknown.
func aptPeriodic(ctx context.Context, h host.Host) (map[string]string, string, error) {
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(cctx, aptConfigPath, "dump")
	if err == nil && out.ExitCode == 0 && len(out.Stdout) > 0 {
		return parseAptConfigDump(out.Stdout), "apt-config dump", nil
	}
	runErr := err
	if runErr == nil {
		runErr = fmt.Errorf("exited %d", out.ExitCode)
	}
	conf, read, err := aptconfig.ReadFiles(h, keptAptKey)
	if err != nil {
		return nil, "", fmt.Errorf("apt-config dump: %v; %v", runErr, err)
	}
	return conf, strings.Join(read, " and "), nil
}

// ostreeMechanism reads rpm-ostree's automatic updates (Fedora Atomic
// desktops, CoreOS).
func ostreeMechanism(h host.Host) (Mechanism, bool) {
	b, err := h.ReadFile(rpmOstreedConf)
	if err != nil {
		return Mechanism{}, false
	}
	m := Mechanism{Name: "rpm-ostree"}
	policy := strings.ToLower(parseINI(b)["Daemon"]["automaticupdatepolicy"])
	if policy == "" {
		policy = "none"
	}
	m.set("AutomaticUpdatePolicy", policy, rpmOstreedConf)
	timer := timerEnabled(h, "rpm-ostreed-automatic.timer")
	m.set("rpm-ostreed-automatic.timer", enabledWord(timer), timersWants)
	switch {
	case !timer || policy == "none":
		m.Level, m.Reason = LevelOff, "rpm-ostree automatic updates are off"
	case policy == "apply":
		m.Level, m.Reason = LevelInstall, "rpm-ostree applies updates automatically"
	case policy == "stage":
		m.Level, m.Reason = LevelDownload, "rpm-ostree stages updates for the next reboot"
	default:
		m.Level, m.Reason = LevelNotify, "rpm-ostree only checks for updates"
	}
	return m, true
}
