package osautoupdate

import (
	"context"
	"errors"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

// macOS sources. The managed file is written by configuration profiles
// (MDM) and wins over the machine's own preferences.
const (
	suPlist        = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
	suManagedPlist = "/Library/Managed Preferences/com.apple.SoftwareUpdate.plist"
	softwareUpdate = "/usr/sbin/softwareupdate"
)

// macDefaults are macOS's values for keys absent from both files (System
// Settings > General > Software Update > Automatic Updates on a new Mac).
var macDefaults = map[string]bool{
	"AutomaticCheckEnabled":            true,
	"AutomaticDownload":                true,
	"CriticalUpdateInstall":            true,
	"ConfigDataInstall":                true,
	"AutomaticallyInstallMacOSUpdates": false,
}

var macKeys = []string{"AutomaticCheckEnabled", "AutomaticDownload", "CriticalUpdateInstall", "ConfigDataInstall", "AutomaticallyInstallMacOSUpdates"}

func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Checked: []string{suManagedPlist, suPlist, "softwareupdate --schedule"}}
	m := Mechanism{Name: "macOS Software Update"}
	machine, merr := readPlist(h, suPlist)
	managed, gerr := readPlist(h, suManagedPlist)
	if merr != nil && !errors.Is(merr, host.ErrNotFound) {
		m.Level, m.Reason = LevelUnknown, fmt.Sprintf("read %s: %v", suPlist, merr)
		f.Mechanisms = append(f.Mechanisms, m)
		return f, nil
	}
	if gerr != nil && !errors.Is(gerr, host.ErrNotFound) {
		m.Level, m.Reason = LevelUnknown, fmt.Sprintf("read %s: %v", suManagedPlist, gerr)
		f.Mechanisms = append(f.Mechanisms, m)
		return f, nil
	}
	val := map[string]bool{}
	for _, k := range macKeys {
		if v, ok := plistval.Bool(managed[k]); ok {
			val[k] = v
			m.set(k, fmt.Sprint(v), "managed profile")
			continue
		}
		if v, ok := plistval.Bool(machine[k]); ok {
			val[k] = v
			m.set(k, fmt.Sprint(v), suPlist)
			continue
		}
		if k == "AutomaticCheckEnabled" {
			if v, ok := scheduleOn(ctx, h); ok {
				val[k] = v
				m.set(k, fmt.Sprint(v), "softwareupdate --schedule")
				continue
			}
			if merr != nil {
				m.Level, m.Reason = LevelUnknown, fmt.Sprintf("%s is missing and softwareupdate --schedule gave no answer", suPlist)
				f.Mechanisms = append(f.Mechanisms, m)
				return f, nil
			}
		}
		val[k] = macDefaults[k]
		m.set(k, fmt.Sprint(macDefaults[k]), "macOS default (not set)")
	}
	switch {
	case !val["AutomaticCheckEnabled"]:
		m.Level, m.Reason = LevelOff, "automatic checking for updates is off"
	case !val["CriticalUpdateInstall"] || !val["ConfigDataInstall"]:
		m.Level, m.Reason = LevelNotify, "security responses and system data files are not installed automatically"
	case !val["AutomaticDownload"]:
		m.Level, m.Reason = LevelNotify, "macOS checks for updates but does not download them"
	case val["AutomaticallyInstallMacOSUpdates"]:
		m.Level, m.Reason = LevelInstall, "macOS downloads and installs updates automatically"
	default:
		m.Level, m.Reason = LevelDownload, "macOS downloads updates and installs security responses automatically; macOS updates wait for the user"
	}
	f.Mechanisms = append(f.Mechanisms, m)
	return f, nil
}

func readPlist(h host.Host, p string) (map[string]any, error) {
	b, err := h.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("the file is empty, not a property list")
	}
	var v map[string]any
	if _, err := plistval.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return v, nil
}

// scheduleOn asks softwareupdate whether automatic checking is on; its
// answer is English text ("Automatic checking for updates is turned on").
func scheduleOn(ctx context.Context, h host.Host) (on, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, softwareUpdate, "--schedule")
	if err != nil {
		return false, false
	}
	return parseSchedule(append(out.Stdout, out.Stderr...))
}
