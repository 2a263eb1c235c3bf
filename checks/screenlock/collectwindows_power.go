package screenlock

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Power settings, by GUID (winnt.h GUID_* names in comments).
const (
	subVideo    = "7516b95f-f776-4464-8c53-06167f40cc99" // SUB_VIDEO
	videoIdle   = "3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e" // VIDEOIDLE
	subSleep    = "238c9fa8-0aad-41ed-83f4-97be242c8f20" // SUB_SLEEP
	standbyIdle = "29f6c1db-86da-48c5-9fdb-f2b67b1f44da" // STANDBYIDLE
	subNone     = "fea3413e-7e05-4911-9a71-700331f1c294" // SUB_NONE
	consoleLock = "0e796bdb-100d-47d6-a2d5-f7d2daa51f51" // CONSOLELOCK
	subButtons  = "4f971e89-eebd-4455-a8de-9e59040e7347" // SUB_BUTTONS
	lidAction   = "5ca83367-6e45-459f-a27b-476b1d01c936" // LIDACTION: 0 nothing, 1 sleep, 2 hibernate, 3 shut down

	powerPolicyKey   = `HKLM\SOFTWARE\Policies\Microsoft\Power\PowerSettings`
	powerSchemesKey  = `HKLM\SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes`
	powerSettingsKey = `HKLM\SYSTEM\CurrentControlSet\Control\Power\PowerSettings`
	powercfgPath     = `C:\Windows\System32\powercfg.exe`
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// acdc is a power setting's value on mains and on battery.
type acdc struct {
	ac, dc int
	source string
}

// sleepRoutes are the system sleep timers on mains and on battery, which
// lock the session when "require a password on wakeup" (CONSOLELOCK) is
// on. The display-off timer is recorded but is not a lock: on its own it
// only blanks the screen.
// It also returns the display-off timer, which Modern Standby's sign-in
// route (collectwindows_signin.go) starts from.
func sleepRoutes(ctx context.Context, h host.Host, f *Facts) ([]Route, acdc, error) {
	scheme, schemeErr := activeScheme(h)
	get := func(sub, setting, name string) (acdc, error) {
		v, err := powerSetting(ctx, h, scheme, schemeErr, sub, setting)
		if err == nil {
			f.Settings = append(f.Settings,
				Setting{Name: name + " (mains)", Value: strconv.Itoa(v.ac), Source: v.source},
				Setting{Name: name + " (battery)", Value: strconv.Itoa(v.dc), Source: v.source})
		}
		return v, err
	}
	video, errVideo := get(subVideo, videoIdle, "VIDEOIDLE")
	sleep, errSleep := get(subSleep, standbyIdle, "STANDBYIDLE")
	lock, errLock := get(subNone, consoleLock, "CONSOLELOCK")
	if errLock == nil {
		lid, errLid := get(subButtons, lidAction, "LIDACTION")
		f.ResumeUnlocked = consoleLockOff(lock, sleep, lid, errLid == nil, f.HasBattery == nil || *f.HasBattery)
	}
	var out []Route
	for _, p := range []struct {
		power        string
		sleep, needs int
	}{{PowerAC, sleep.ac, lock.ac}, {PowerBattery, sleep.dc, lock.dc}} {
		r := Route{Name: "sleep", Power: p.power, IdleSeconds: p.sleep, PasswordRequired: p.needs != 0, Source: sleep.source + "; " + lock.source}
		if err := errors.Join(errSleep, errLock); err != nil {
			r = Route{Name: "sleep", Power: p.power, Unknown: err.Error()}
		}
		out = append(out, r)
	}
	return out, video, errVideo
}

// consoleLockOff says on which power source "Require a password on
// wakeup" (CONSOLELOCK) is off while the machine can go to sleep there,
// by its idle timer or by closing the lid (LIDACTION sleep or hibernate;
// lidKnown is false when that could not be read; battery settings count
// only on a machine with a battery): waking then shows the desktop
// without the password, whatever the idle lock timers.
func consoleLockOff(lock, sleep, lid acdc, lidKnown, battery bool) string {
	sleeps := func(timer, lidAct int) bool { return timer > 0 || (lidKnown && (lidAct == 1 || lidAct == 2)) }
	var off []string
	if lock.ac == 0 && sleeps(sleep.ac, lid.ac) {
		off = append(off, "on mains")
	}
	if lock.dc == 0 && sleeps(sleep.dc, lid.dc) && battery {
		off = append(off, "on battery")
	}
	if len(off) == 0 {
		return ""
	}
	return "the power setting \"Require a password on wakeup\" (CONSOLELOCK) is off " + strings.Join(off, " and ")
}

// activeScheme is the power scheme in force: group policy's, else the
// user-selected one.
func activeScheme(h host.Host) (string, error) {
	for _, key := range []string{powerPolicyKey, powerSchemesKey} {
		v, err := h.Registry(key, "ActivePowerScheme")
		if err == nil && guidRE.MatchString(v.String) {
			return strings.ToLower(v.String), nil
		}
		if err != nil && !errors.Is(err, host.ErrNotFound) {
			return "", fmt.Errorf("read the active power scheme: %w", err)
		}
	}
	return "", errors.New("no active power scheme in the registry")
}

// powerSetting resolves one setting: group policy, then the scheme's
// customized value, then the scheme's default; powercfg answers when the
// registry does not (its text is localized, but the GUIDs and the two
// hexadecimal indexes it ends with are not).
func powerSetting(ctx context.Context, h host.Host, scheme string, schemeErr error, sub, setting string) (acdc, error) {
	if v, ok := registryACDC(h, powerPolicyKey+`\`+setting); ok {
		return v, nil
	}
	if schemeErr == nil {
		for _, key := range []string{
			powerSchemesKey + `\` + scheme + `\` + sub + `\` + setting,
			powerSettingsKey + `\` + sub + `\` + setting + `\DefaultPowerSchemeValues\` + scheme,
		} {
			if v, ok := registryACDC(h, key); ok {
				return v, nil
			}
		}
	}
	return powercfgSetting(ctx, h, sub, setting)
}

// powercfgSetting asks powercfg for one setting of the active scheme. It
// uses /qh, which also lists hidden settings: CONSOLELOCK is hidden on
// many machines and /query then prints only the scheme's header. /query
// is the fallback for a powercfg that does not know /qh.
func powercfgSetting(ctx context.Context, h host.Host, sub, setting string) (acdc, error) {
	var errs []string
	for _, flag := range []string{"/qh", "/query"} {
		ac, dc, err := runPowercfg(ctx, h, flag, sub, setting)
		if err == nil {
			return acdc{ac: ac, dc: dc, source: "powercfg " + flag}, nil
		}
		errs = append(errs, "powercfg "+flag+": "+err.Error())
	}
	return acdc{}, fmt.Errorf("power setting %s is not in the registry and powercfg did not give it (%s)", setting, strings.Join(errs, "; "))
}

func runPowercfg(ctx context.Context, h host.Host, flag, sub, setting string) (int, int, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, powercfgPath, flag, "SCHEME_CURRENT", sub, setting)
	if err != nil {
		return 0, 0, err
	}
	if out.ExitCode != 0 {
		return 0, 0, fmt.Errorf("exit code %d", out.ExitCode)
	}
	return parsePowercfgQuery(out.Stdout, setting)
}

// registryACDC reads ACSettingIndex and DCSettingIndex under key; a key
// with only one of them takes the other from the lower layers, so both
// are required here.
func registryACDC(h host.Host, key string) (acdc, bool) {
	ac, errAC := h.Registry(key, "ACSettingIndex")
	dc, errDC := h.Registry(key, "DCSettingIndex")
	if errAC != nil || errDC != nil {
		return acdc{}, false
	}
	a, okA := regInt(ac)
	d, okD := regInt(dc)
	if !okA || !okD {
		return acdc{}, false
	}
	return acdc{ac: a, dc: d, source: key}, true
}
