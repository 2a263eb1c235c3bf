package osautoupdate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// SUSE sources. YaST's Online Update Configuration writes the sysconfig
// file and links its online_update script into one cron directory; the
// script installs the needed patches of the chosen categories.
// transactional-update (MicroOS, SLE Micro, Aeon) and os-update
// (Tumbleweed, Leap) are systemd timers.
const (
	zypperPath          = "/usr/bin/zypper"
	aouSysconfig        = "/etc/sysconfig/automatic_online_update"
	aouCronName         = "opensuse.org-online_update"
	cronDaemon          = "/usr/sbin/cron"
	transactionalUpdate = "/usr/sbin/transactional-update"
	osUpdateConf        = "/etc/os-update.conf"
	osUpdateVendorConf  = "/usr/etc/os-update.conf"
)

var aouCronDirs = []struct{ dir, interval string }{
	{"/etc/cron.daily/", "daily"}, {"/etc/cron.weekly/", "weekly"}, {"/etc/cron.monthly/", "monthly"},
}

// suseMechanisms reads the SUSE updaters found on h.
func suseMechanisms(h host.Host, f *Facts) {
	if !exists(h, zypperPath) {
		return
	}
	if m, ok := yastOnlineUpdate(h); ok {
		f.Checked = append(f.Checked, "YaST automatic online update")
		f.Mechanisms = append(f.Mechanisms, m)
	} else {
		f.Checked = append(f.Checked, "YaST automatic online update (not configured; zypper is present)")
	}
	if exists(h, transactionalUpdate) || timerEnabled(h, "transactional-update.timer") {
		f.Checked = append(f.Checked, "transactional-update")
		f.Mechanisms = append(f.Mechanisms, timerMechanism(h, "transactional-update", "transactional-update.timer",
			"transactional-update installs updates into a new snapshot, used from the next reboot"))
	}
	conf, confPath := osUpdateConfig(h)
	if confPath != "" || timerEnabled(h, "os-update.timer") {
		f.Checked = append(f.Checked, "os-update")
		m := timerMechanism(h, "os-update", "os-update.timer", "os-update installs updates automatically")
		if v := conf["UPDATE_CMD"]; v != "" {
			m.set("UPDATE_CMD", v, confPath)
		}
		f.Mechanisms = append(f.Mechanisms, m)
	}
}

// osUpdateConfig reads os-update's configuration, the administrator's
// file before the vendor's; confPath is empty when neither exists.
func osUpdateConfig(h host.Host) (conf map[string]string, confPath string) {
	for _, p := range []string{osUpdateConf, osUpdateVendorConf} {
		if b, err := h.ReadFile(p); err == nil {
			return parseSysconfig(b), p
		}
	}
	return nil, ""
}

func timerMechanism(h host.Host, name, timer, onReason string) Mechanism {
	m := Mechanism{Name: name}
	on := timerEnabled(h, timer)
	m.set(timer, enabledWord(on), timersWants)
	if on {
		m.Level, m.Reason = LevelInstall, onReason
	} else {
		m.Level, m.Reason = LevelOff, timer+" is not enabled"
	}
	return m
}

// yastOnlineUpdate reads YaST's automatic online update; ok is false when
// it was never configured (no sysconfig file and no cron job).
func yastOnlineUpdate(h host.Host) (Mechanism, bool) {
	m := Mechanism{Name: "YaST automatic online update"}
	b, err := h.ReadFile(aouSysconfig)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		m.Level, m.Reason = LevelUnknown, fmt.Sprintf("read %s: %v", aouSysconfig, err)
		return m, true
	}
	conf := parseSysconfig(b)
	job, interval := "", ""
	for _, c := range aouCronDirs {
		if fi, err := h.Stat(c.dir + aouCronName); err == nil {
			job, interval = c.dir+aouCronName, c.interval
			target := fi.Link
			if target == "" {
				target = "a file"
			}
			m.set("cron job", job+" -> "+target, c.dir)
			break
		}
	}
	if err != nil && job == "" {
		return Mechanism{}, false
	}
	enabled := strings.EqualFold(conf["AOU_ENABLE_CRONJOB"], "true")
	for _, k := range []string{"AOU_ENABLE_CRONJOB", "AOU_SKIP_INTERACTIVE_PATCHES", "AOU_PATCH_CATEGORIES"} {
		if v, ok := conf[k]; ok {
			m.set(k, fmt.Sprintf("%q", v), aouSysconfig)
		}
	}
	categories := strings.Fields(conf["AOU_PATCH_CATEGORIES"])
	switch {
	case job == "" && !enabled:
		m.Level, m.Reason = LevelOff, "automatic online update is off (AOU_ENABLE_CRONJOB is not true and no cron job is linked)"
	case job == "":
		m.Level, m.Reason = LevelOff, "AOU_ENABLE_CRONJOB is true but no online_update job is linked in /etc/cron.daily, weekly or monthly"
	case !enabled:
		m.Level, m.Reason = LevelUnknown, "the online_update cron job is linked but AOU_ENABLE_CRONJOB is not true; the configuration is inconsistent"
	case !exists(h, cronDaemon):
		m.Level, m.Reason = LevelOff, "the online_update cron job is linked but cron is not installed ("+cronDaemon+" is missing), so it never runs"
	case len(categories) > 0 && !containsFold(categories, "security"):
		m.Level, m.Reason = LevelOff, "automatic online update installs only "+strings.Join(categories, ", ")+" patches, not security ones"
	default:
		m.Level, m.Reason = LevelInstall, "YaST automatic online update installs needed patches "+interval
		if skip, set := conf["AOU_SKIP_INTERACTIVE_PATCHES"]; !set || strings.EqualFold(skip, "true") {
			m.Reason += " (interactive patches, such as kernel updates that need a reboot, are skipped and wait for the user)"
		}
	}
	return m, true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
