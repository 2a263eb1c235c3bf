package osautoupdate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/osdata"
)

// Windows registry sources.
const (
	auPolicyKey   = `HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`
	mdmUpdateKey  = `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\Update`
	wuauservKey   = `HKLM\SYSTEM\CurrentControlSet\Services\wuauserv`
	uxSettingsKey = `HKLM\SOFTWARE\Microsoft\WindowsUpdate\UX\Settings`
)

func collectWindows(h host.Host) (*Facts, error) {
	m := Mechanism{Name: "Windows Update"}
	f := &Facts{Checked: []string{"Windows Update policy (Group Policy and MDM)", "wuauserv service", "pause settings"}}
	level, reason, err := windowsPolicyLevel(h, &m)
	if err != nil {
		m.Level, m.Reason = LevelUnknown, err.Error()
		f.Mechanisms = append(f.Mechanisms, m)
		return f, nil
	}
	start, err := osdata.RegString(h, wuauservKey, "Start")
	switch {
	case errors.Is(err, host.ErrNotFound):
		level, reason = LevelUnknown, "the Windows Update service (wuauserv) is not registered"
	case err != nil:
		level, reason = LevelUnknown, "read the Windows Update service start type: "+err.Error()
	default:
		m.set("wuauserv Start", start, wuauservKey)
		if start == "4" {
			level, reason = LevelOff, "the Windows Update service (wuauserv) is disabled"
		}
	}
	for _, name := range []string{"PauseUpdatesExpiryTime", "PauseQualityUpdatesEndTime"} {
		v, err := osdata.RegString(h, uxSettingsKey, name)
		if err != nil || v == "" {
			continue
		}
		m.set(name, v, uxSettingsKey)
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(v)); err == nil {
			if m.PausedUntil == nil || t.After(*m.PausedUntil) {
				t := t.UTC()
				m.PausedUntil = &t
			}
		}
	}
	m.Level, m.Reason = level, reason
	f.Mechanisms = append(f.Mechanisms, m)
	return f, nil
}

// windowsPolicyLevel reads Group Policy (NoAutoUpdate, AUOptions) and the
// MDM Update CSP (AllowAutoUpdate); when both are set the stricter wins,
// when neither is, Windows installs updates automatically.
func windowsPolicyLevel(h host.Host, m *Mechanism) (string, string, error) {
	read := func(key, name string) (string, bool, error) {
		v, err := osdata.RegString(h, key, name)
		if errors.Is(err, host.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("read %s %s: %w", key, name, err)
		}
		m.set(name, v, key)
		return v, true, nil
	}
	noAuto, hasNoAuto, err := read(auPolicyKey, "NoAutoUpdate")
	if err != nil {
		return "", "", err
	}
	auOptions, hasAU, err := read(auPolicyKey, "AUOptions")
	if err != nil {
		return "", "", err
	}
	mdm, hasMDM, err := read(mdmUpdateKey, "AllowAutoUpdate")
	if err != nil {
		return "", "", err
	}
	level, reason := LevelInstall, "no update policy is set, so Windows installs updates automatically"
	lower := func(l, r string) {
		if levelRank[l] < levelRank[level] || (reason == "" || strings.HasPrefix(reason, "no update policy")) {
			level, reason = l, r
		}
	}
	if hasAU {
		switch auOptions {
		case "2":
			lower(LevelNotify, "Group Policy AUOptions 2: notify before downloading")
		case "3":
			lower(LevelDownload, "Group Policy AUOptions 3: download automatically, notify to install")
		case "4":
			lower(LevelInstall, "Group Policy AUOptions 4: download and install on a schedule")
		case "5":
			lower(LevelInstall, "Group Policy AUOptions 5: local administrator chooses (Windows 10 and later install automatically)")
		case "7":
			lower(LevelDownload, "Group Policy AUOptions 7: download automatically, notify to install")
		default:
			lower(LevelUnknown, "Group Policy AUOptions "+auOptions+" is not a documented value")
		}
	}
	if hasMDM {
		switch mdm {
		case "5":
			lower(LevelOff, "MDM policy Update/AllowAutoUpdate 5: automatic updates turned off")
		case "0":
			lower(LevelNotify, "MDM policy Update/AllowAutoUpdate 0: notify before downloading")
		case "1", "2", "3", "4", "6":
			lower(LevelInstall, "MDM policy Update/AllowAutoUpdate "+mdm+": install automatically")
		default:
			lower(LevelUnknown, "MDM policy Update/AllowAutoUpdate "+mdm+" is not a documented value")
		}
	}
	if hasNoAuto && noAuto == "1" {
		level, reason = LevelOff, "Group Policy NoAutoUpdate is 1: automatic updates are turned off"
	}
	return level, reason, nil
}
