package screenlock

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/postern-dev/postern/checks/host"
)

// Modern Standby (S0 low power idle) sources. On such machines turning
// the display off is what sends them to standby, and "Require sign-in: if
// you've been away" (the user's DelayLockInterval) says how long after
// the display went off Windows asks for the password again; the
// CONSOLELOCK power setting is not what decides there.
const (
	powerKey          = `HKLM\SYSTEM\CurrentControlSet\Control\Power`
	systemPolicyKey   = `HKLM\SOFTWARE\Policies\Microsoft\Windows\System`
	delayLockNever    = 0xFFFFFFFF
	signInRouteName   = "display off, then sign-in (Modern Standby)"
	delayLockValue    = "DelayLockInterval"
	domainDelayPolicy = "AllowDomainDelayLock"
)

// signInRoutes are the Modern Standby lock on each power source: display
// off after VIDEOIDLE, then the password after DelayLockInterval seconds
// (0 is "every time", 0xFFFFFFFF "never"). The machine policy "Allow users
// to select when a password is required when resuming from connected
// standby" (AllowDomainDelayLock) set to 0 takes the choice away: the
// password is then asked as soon as the display is off. Machines that do
// not say they are Modern Standby (CsEnabled=1) get no route, and neither
// does an account that never chose a value, since Windows' default is not
// documented.
func signInRoutes(h host.Host, sid string, video acdc, videoErr error, f *Facts) []Route {
	cs, err := h.Registry(powerKey, "CsEnabled")
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) {
			f.Notes = append(f.Notes, registryReason(powerKey, "CsEnabled", err)+"; the Modern Standby sign-in route was not considered")
		}
		return nil
	}
	n, ok := regInt(cs)
	f.Settings = append(f.Settings, Setting{Name: "CsEnabled", Value: regString(cs), Source: powerKey})
	if !ok || n != 1 {
		return nil
	}
	grace, source, why := signInDelay(h, sid, f)
	if why == "" && source == "" {
		return nil
	}
	// On Modern Standby the sign-in choice, not CONSOLELOCK, decides
	// whether waking asks for the password.
	f.ResumeUnlocked = ""
	if why == "" && grace == never {
		f.ResumeUnlocked = `"Require sign-in: if you've been away" is Never (` + delayLockValue + `)`
	}
	var out []Route
	for _, p := range []struct {
		power string
		idle  int
	}{{PowerAC, video.ac}, {PowerBattery, video.dc}} {
		r := Route{Name: signInRouteName, Power: p.power, Source: video.source + "; " + source}
		switch {
		case why != "":
			r.Unknown = why
		case videoErr != nil:
			r.Unknown = "the display-off timer could not be read: " + videoErr.Error()
		default:
			r.IdleSeconds = p.idle
			r.GraceSeconds = grace
			r.PasswordRequired = grace != never
			if grace == never {
				r.GraceSeconds = 0
			}
		}
		out = append(out, r)
	}
	return out
}

// signInDelay is the delay before the password after the display went
// off: 0 under the machine policy, else the user's choice; never for
// "never". source is empty when nothing decides it.
func signInDelay(h host.Host, sid string, f *Facts) (grace int, source, why string) {
	if v, err := h.Registry(systemPolicyKey, domainDelayPolicy); err == nil {
		if n, ok := regInt(v); ok {
			f.Settings = append(f.Settings, Setting{Name: domainDelayPolicy, Value: strconv.Itoa(n), Source: systemPolicyKey})
			if n == 0 {
				return 0, systemPolicyKey + ` ` + domainDelayPolicy + `=0 (password as soon as the display is off)`, ""
			}
		}
	} else if !errors.Is(err, host.ErrNotFound) {
		return 0, "", registryReason(systemPolicyKey, domainDelayPolicy, err)
	}
	key := `HKU\` + sid + `\` + userDesktopKey
	v, err := h.Registry(key, delayLockValue)
	switch {
	case errors.Is(err, host.ErrNotFound):
		f.Notes = append(f.Notes, "Modern Standby machine, but the console user never chose when Windows requires sign-in after being away (DelayLockInterval not set); that route was not counted")
		return 0, "", ""
	case err != nil:
		return 0, "", registryReason(key, delayLockValue, err)
	}
	n, ok := regInt(v)
	if v.Type == "REG_DWORD" && v.Integer == delayLockNever {
		n, ok = never, true
	}
	if !ok || n < never {
		return 0, "", fmt.Sprintf("%s has the unexpected value %s", delayLockValue, regString(v))
	}
	f.Settings = append(f.Settings, Setting{Name: delayLockValue, Value: regString(v), Source: key})
	return n, key + ` ` + delayLockValue, ""
}
