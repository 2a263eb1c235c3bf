package screenlock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// Windows sources.
const (
	machinePolicyKey = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`
	winlogonKey      = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	userDesktopKey   = `Control Panel\Desktop`
	userPolicyKey    = `Software\Policies\Microsoft\Windows\Control Panel\Desktop`
	platformWindows  = "windows"
	// defaultGraceSeconds is Windows' screen saver grace period when
	// Winlogon's ScreenSaverGracePeriod is not set.
	defaultGraceSeconds = 5
)

func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Platform: platformWindows}
	f.Routes = append(f.Routes, machineInactivity(h, f))
	if r, ok := mdmInactivity(h, f); ok {
		f.Routes = append(f.Routes, r)
	}
	f.HasBattery = hasBattery(ctx, h, f)
	sleep, video, videoErr := sleepRoutes(ctx, h, f)
	f.Routes = append(f.Routes, sleep...)
	u, err := consoleuser.Find(ctx, h)
	if err != nil {
		f.UserSettingsUnread = "the console user's screen saver settings could not be read: " + err.Error()
		return f, nil
	}
	f.User = u.Name
	f.Routes = append(f.Routes, screenSaver(h, u.ID, f))
	f.Routes = append(f.Routes, signInRoutes(h, u.ID, video, videoErr, f)...)
	return f, nil
}

// machineInactivity is "Interactive logon: Machine inactivity limit",
// which locks every session after InactivityTimeoutSecs whatever the
// user's settings.
func machineInactivity(h host.Host, f *Facts) Route {
	r := Route{Name: "machine inactivity limit", PasswordRequired: true, Source: machinePolicyKey + ` InactivityTimeoutSecs`}
	v, err := h.Registry(machinePolicyKey, "InactivityTimeoutSecs")
	switch {
	case errors.Is(err, host.ErrNotFound):
		r.Source += " (not set)"
	case err != nil:
		r.Unknown = registryReason(machinePolicyKey, "InactivityTimeoutSecs", err)
	default:
		n, ok := regInt(v)
		if !ok {
			r.Unknown = fmt.Sprintf("InactivityTimeoutSecs has the unexpected value %s", regString(v))
			break
		}
		r.IdleSeconds = n
		f.Settings = append(f.Settings, Setting{Name: "InactivityTimeoutSecs", Value: strconv.Itoa(n), Source: machinePolicyKey})
	}
	return r
}

// screenSaver reads the console user's screen saver: group policy under
// HKU\<SID>\Software\Policies wins over the user's own Control Panel
// setting, value by value. It only locks when active, secure, with a
// timeout and a screen saver program chosen (without one, Windows runs
// none and never locks).
func screenSaver(h host.Host, sid string, f *Facts) Route {
	r := Route{Name: "screen saver"}
	read := func(name string) (string, string, string) {
		for _, key := range []string{`HKU\` + sid + `\` + userPolicyKey, `HKU\` + sid + `\` + userDesktopKey} {
			v, err := h.Registry(key, name)
			if errors.Is(err, host.ErrNotFound) {
				continue
			}
			if err != nil {
				return "", "", registryReason(key, name, err)
			}
			s := regString(v)
			f.Settings = append(f.Settings, Setting{Name: name, Value: s, Source: key})
			return s, key, ""
		}
		return "", "", ""
	}
	active, srcActive, why1 := read("ScreenSaveActive")
	secure, srcSecure, why2 := read("ScreenSaverIsSecure")
	timeout, srcTimeout, why3 := read("ScreenSaveTimeOut")
	program, _, why4 := read("SCRNSAVE.EXE")
	if why := firstNonEmpty(why1, why2, why3, why4); why != "" {
		r.Unknown = why
		return r
	}
	r.Source = strings.Join(dedupe(nonEmpty(srcActive, srcSecure, srcTimeout)), ", ")
	if r.Source == "" {
		r.Source = "not configured"
	}
	seconds, err := strconv.Atoi(strings.TrimSpace(timeout))
	if timeout == "" || err != nil || seconds < 0 {
		seconds = 0 // Windows' own default when never set: 900 s, but inactive
	}
	if active != "1" || strings.TrimSpace(program) == "" {
		return r
	}
	r.IdleSeconds = seconds
	r.PasswordRequired = secure == "1"
	r.GraceSeconds = graceSeconds(h, f)
	return r
}

// graceSeconds is how long after the screen saver starts a user can still
// dismiss it without the password.
func graceSeconds(h host.Host, f *Facts) int {
	v, err := h.Registry(winlogonKey, "ScreenSaverGracePeriod")
	if err != nil {
		return defaultGraceSeconds
	}
	n, ok := regInt(v)
	if !ok || n < 0 {
		return defaultGraceSeconds
	}
	f.Settings = append(f.Settings, Setting{Name: "ScreenSaverGracePeriod", Value: strconv.Itoa(n), Source: winlogonKey})
	return n
}

// hasBattery asks WMI for a battery; nil when it cannot tell.
func hasBattery(ctx context.Context, h host.Host, f *Facts) *bool {
	rows, err := h.WMI(ctx, `root\cimv2`, "SELECT Name FROM Win32_Battery")
	if err != nil {
		f.Notes = append(f.Notes, "query Win32_Battery: "+err.Error())
		return nil
	}
	b := len(rows) > 0
	return &b
}

// regInt reads a DWORD/QWORD, or a decimal string (the Control Panel keeps
// numbers as REG_SZ), within a DWORD's positive range either way.
func regInt(v host.RegistryValue) (int, bool) {
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		if v.Integer > 1<<31 {
			return 0, false
		}
		return int(v.Integer), true
	case "REG_SZ", "REG_EXPAND_SZ":
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimRight(v.String, "\x00")))
		return n, err == nil && n >= 0 && n <= 1<<31
	}
	return 0, false
}

func regString(v host.RegistryValue) string {
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		return strconv.FormatUint(v.Integer, 10)
	case "REG_MULTI_SZ":
		return strings.Join(v.Strings, ",")
	case "REG_BINARY":
		return fmt.Sprintf("%x", v.Binary)
	}
	return strings.TrimRight(v.String, "\x00")
}

func registryReason(key, name string, err error) string {
	if errors.Is(err, host.ErrPermission) {
		return fmt.Sprintf("cannot read %s\\%s: access denied", key, name)
	}
	return fmt.Sprintf("cannot read %s\\%s: %v", key, name, err)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
