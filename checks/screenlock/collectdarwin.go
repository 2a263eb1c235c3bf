package screenlock

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

// macOS sources.
const (
	managedPrefsDir = "/Library/Managed Preferences"
	screensaverApp  = "com.apple.screensaver"
	pmsetPath       = "/usr/bin/pmset"
	launchctlPath   = "/bin/launchctl"
	sudoPath        = "/usr/bin/sudo"
	sysadminctlPath = "/usr/sbin/sysadminctl"
	platformMacOS   = "macos"
	// defaultIdleTime is macOS's screen saver start for an account that
	// never changed it (20 minutes).
	defaultIdleTime = 1200
)

// screensaverPrefs are the com.apple.screensaver keys that matter; nil
// when absent.
type screensaverPrefs struct {
	IdleTime            any `plist:"idleTime"`
	AskForPassword      any `plist:"askForPassword"`
	AskForPasswordDelay any `plist:"askForPasswordDelay"`
}

func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Platform: platformMacOS}
	u, uErr := consoleuser.Find(ctx, h)
	if uErr == nil {
		f.User = u.Name
	}
	// A configuration profile's payload, per user then per device, wins
	// over the user's own preference, key by key.
	var managed []screensaverPrefs
	var managedSrc []string
	dirs := []string{managedPrefsDir}
	if uErr == nil {
		dirs = []string{path.Join(managedPrefsDir, u.Name), managedPrefsDir}
	}
	for _, dir := range dirs {
		p := path.Join(dir, screensaverApp+".plist")
		if prefs, err := readPrefs(h, p); err == nil && prefs != nil {
			managed, managedSrc = append(managed, *prefs), append(managedSrc, p)
		} else if err != nil {
			f.Notes = append(f.Notes, err.Error())
		}
	}
	idle, idleSrc, idleWhy := darwinIdleTime(h, u, uErr, managed, managedSrc, f)
	pw, delay, pwSrc, pwWhy := darwinPassword(ctx, h, u, uErr, managed, managedSrc, f)
	if idleWhy == "" {
		f.Settings = append(f.Settings, Setting{Name: "idleTime", Value: strconv.Itoa(idle), Source: idleSrc})
	}
	if pwWhy == "" {
		f.Settings = append(f.Settings,
			Setting{Name: "askForPassword", Value: strconv.FormatBool(pw), Source: pwSrc},
			Setting{Name: "askForPasswordDelay", Value: strconv.Itoa(delay), Source: pwSrc})
	}
	ss := Route{Name: "screen saver", IdleSeconds: idle, GraceSeconds: delay, PasswordRequired: pw, Source: idleSrc + "; " + pwSrc}
	if why := firstNonEmpty(idleWhy, pwWhy); why != "" {
		ss = Route{Name: "screen saver", Unknown: why}
	}
	f.Routes = append(f.Routes, ss)
	f.Routes = append(f.Routes, darwinPowerRoutes(ctx, h, pw, delay, pwSrc, pwWhy, f)...)
	return f, nil
}

// darwinIdleTime is when the screen saver starts: the managed idleTime,
// else the user's ByHost preference, else the macOS default.
func darwinIdleTime(h host.Host, u consoleuser.User, uErr error, managed []screensaverPrefs, src []string, f *Facts) (int, string, string) {
	for i, m := range managed {
		if n, ok := plistNumber(m.IdleTime); ok {
			return n, src[i] + " (managed)", ""
		} else if m.IdleTime != nil {
			return 0, "", badNumber(src[i], "idleTime", m.IdleTime)
		}
	}
	if uErr != nil {
		return 0, "", "the console user's screen saver settings could not be read: " + uErr.Error()
	}
	files, err := h.Glob(path.Join(u.Home, "Library", "Preferences", "ByHost", screensaverApp+".*.plist"))
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		return 0, "", readErrorReason(path.Join(u.Home, "Library", "Preferences", "ByHost"), err)
	}
	if len(files) > 1 {
		// Migrated accounts keep other Macs' files; the newest is this one's.
		newest := files[0]
		best, _ := h.Stat(newest)
		for _, p := range files[1:] {
			if fi, err := h.Stat(p); err == nil && fi.ModTime.After(best.ModTime) {
				newest, best = p, fi
			}
		}
		f.Notes = append(f.Notes, fmt.Sprintf("%d ByHost screen saver files; read the newest, %s", len(files), path.Base(newest)))
		files = []string{newest}
	}
	for _, p := range files {
		prefs, err := readPrefs(h, p)
		if err != nil {
			return 0, "", err.Error()
		}
		if prefs == nil {
			continue
		}
		if n, ok := plistNumber(prefs.IdleTime); ok {
			return n, p, ""
		} else if prefs.IdleTime != nil {
			return 0, "", badNumber(p, "idleTime", prefs.IdleTime)
		}
	}
	return defaultIdleTime, "macOS default (idleTime not set)", ""
}

// darwinPassword is whether and how soon a password is asked after the
// screen saver starts or the display sleeps: the managed askForPassword
// and askForPasswordDelay, else sysadminctl run in the user's session.
func darwinPassword(ctx context.Context, h host.Host, u consoleuser.User, uErr error, managed []screensaverPrefs, src []string, f *Facts) (bool, int, string, string) {
	for i, m := range managed {
		if req, ok := plistval.Bool(m.AskForPassword); ok {
			delay, ok := plistNumber(m.AskForPasswordDelay)
			if !ok && m.AskForPasswordDelay != nil {
				return false, 0, "", badNumber(src[i], "askForPasswordDelay", m.AskForPasswordDelay)
			}
			return req, delay, src[i] + " (managed)", ""
		}
	}
	if uErr != nil {
		return false, 0, "", "the console user's lock settings could not be read: " + uErr.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	// The setting belongs to the user's login session, so it is read in it.
	out, err := h.Run(ctx, launchctlPath, "asuser", u.ID, sudoPath, "-u", u.Name, sysadminctlPath, "-screenLock", "status")
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return false, 0, "", "sysadminctl is not available (macOS before 10.13?), and no configuration profile sets askForPassword"
		}
		return false, 0, "", "run sysadminctl -screenLock status: " + err.Error()
	}
	req, delay, ok := parseScreenLockStatus(append(out.Stdout, out.Stderr...))
	if !ok {
		msg := strings.TrimSpace(string(append(out.Stdout, out.Stderr...)))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return false, 0, "", fmt.Sprintf("sysadminctl -screenLock status printed no screen lock state (exit %d): %q", out.ExitCode, msg)
	}
	return req, delay, "sysadminctl -screenLock status", ""
}

// darwinPowerRoutes are display sleep and system sleep on battery and on
// mains: both lock like the screen saver does.
func darwinPowerRoutes(ctx context.Context, h host.Host, pw bool, delay int, pwSrc, pwWhy string, f *Facts) []Route {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, pmsetPath, "-g", "custom")
	if err != nil || out.ExitCode != 0 {
		why := fmt.Sprintf("pmset -g custom exited %d", out.ExitCode)
		if err != nil {
			why = "run pmset -g custom: " + err.Error()
		}
		f.Notes = append(f.Notes, why)
		return []Route{{Name: "display sleep", Unknown: why}}
	}
	profiles := parsePmsetCustom(out.Stdout)
	_, battery := profiles[PowerBattery]
	f.HasBattery = &battery
	var routes []Route
	for _, p := range []string{PowerAC, PowerBattery} {
		prof, ok := profiles[p]
		if !ok {
			continue
		}
		for _, t := range []struct {
			name    string
			minutes int
			setting string
		}{{"display sleep", prof.displaySleep, "displaysleep"}, {"system sleep", prof.sleep, "sleep"}} {
			if t.minutes < 0 {
				continue
			}
			f.Settings = append(f.Settings, Setting{Name: t.setting + " (" + powerName(p) + ")", Value: strconv.Itoa(t.minutes), Source: "pmset -g custom"})
			r := Route{Name: t.name, Power: p, IdleSeconds: t.minutes * 60, GraceSeconds: delay, PasswordRequired: pw, Source: "pmset -g custom; " + pwSrc}
			if pwWhy != "" {
				r = Route{Name: t.name, Power: p, Unknown: pwWhy}
			}
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		return []Route{{Name: "display sleep", Unknown: "pmset -g custom listed no power source"}}
	}
	return routes
}

// readPrefs decodes a preferences plist (binary or XML); a missing file
// is nil, nil.
func readPrefs(h host.Host, p string) (*screensaverPrefs, error) {
	b, err := readOptional(h, p)
	if err != nil {
		return nil, errors.New(readErrorReason(p, err))
	}
	if b == nil {
		return nil, nil
	}
	var prefs screensaverPrefs
	if _, err := plistval.Unmarshal(b, &prefs); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %v", p, err)
	}
	return &prefs, nil
}

// plistNumber accepts integers and reals (profiles use both for seconds)
// and decimal strings (what `defaults write` without -int stores, which
// NSUserDefaults' integerForKey: documents reading as the number) from 0
// to 2³¹; anything else, such as
// a negative or NaN a user wrote into their own preferences, is not a
// number of seconds.
func plistNumber(v any) (int, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err == nil && n >= 0 && n <= 1<<31 {
			return n, true
		}
	case uint64:
		if x <= 1<<31 {
			return int(x), true
		}
	case int64:
		if x >= 0 && x <= 1<<31 {
			return int(x), true
		}
	case float64:
		if x >= 0 && x <= 1<<31 { // false for NaN
			return int(x), true
		}
	}
	return 0, false
}

// badNumber is the unknown reason for a preference that is set but is
// not a number of seconds: the default must not stand in for it.
func badNumber(path, key string, v any) string {
	s := fmt.Sprint(v)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%s in %s is %q (%T), not a number of seconds", key, path, s, v)
}
