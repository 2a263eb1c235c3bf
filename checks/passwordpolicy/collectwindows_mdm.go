package passwordpolicy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// mdmDeviceLockKey is where Windows keeps the winning value of each Policy
// CSP DeviceLock policy an MDM (Intune) delivered, one value per policy.
const (
	mdmDeviceLockKey = `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\DeviceLock`
	mdmSource        = "MDM (Policy CSP DeviceLock)"
)

// deviceLockInts are the integer DeviceLock policies the control reads.
var deviceLockInts = []string{
	"DevicePasswordEnabled", "MinDevicePasswordLength", "AlphanumericDevicePasswordRequired",
	"MinDevicePasswordComplexCharacters", "DevicePasswordExpiration", "DevicePasswordHistory",
	"MaxDevicePasswordFailedAttempts",
}

// deviceLock is what the MDM set: integer policies by name, and the
// account lockout threshold from DeviceLock/AccountLockoutPolicy.
type deviceLock struct {
	ints    map[string]int
	lockout *int
}

func (d deviceLock) present() bool { return len(d.ints) > 0 || d.lockout != nil }

// readDeviceLock reads the DeviceLock policies; an absent value is the
// normal case on a machine no MDM manages.
func readDeviceLock(h host.Host, f *Facts) deviceLock {
	d := deviceLock{ints: map[string]int{}}
	for _, name := range deviceLockInts {
		v, err := h.Registry(mdmDeviceLockKey, name)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) && !errors.Is(err, host.ErrNotSupported) {
				f.Notes = append(f.Notes, fmt.Sprintf(`MDM policy %s\%s not read: %v`, mdmDeviceLockKey, name, err))
			}
			continue
		}
		n, ok := regNumber(v)
		if !ok {
			f.Notes = append(f.Notes, fmt.Sprintf(`MDM policy %s\%s has the unexpected %s value %q`, mdmDeviceLockKey, name, v.Type, v.String))
			continue
		}
		d.ints[name] = n
	}
	if v, err := h.Registry(mdmDeviceLockKey, "AccountLockoutPolicy"); err == nil {
		if n, ok := parseAccountLockoutPolicy(v.String); ok {
			d.lockout = &n
		} else {
			f.Notes = append(f.Notes, fmt.Sprintf("MDM policy DeviceLock/AccountLockoutPolicy %q has no AccountLockoutThreshold", v.String))
		}
	}
	return d
}

// regNumber reads a DWORD/QWORD or a decimal string.
func regNumber(v host.RegistryValue) (int, bool) {
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		if v.Integer > 1<<31 {
			return 0, false
		}
		return int(v.Integer), true
	case "REG_SZ":
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimRight(v.String, "\x00")))
		return n, err == nil && n >= 0
	}
	return 0, false
}

// parseAccountLockoutPolicy reads the threshold from the policy's
// documented string form, e.g. "AccountLockoutDuration:30,
// AccountLockoutThreshold:5, ResetAccountLockoutCounterAfter:60".
func parseAccountLockoutPolicy(s string) (int, bool) {
	for _, part := range strings.Split(strings.TrimRight(s, "\x00"), ",") {
		k, v, ok := strings.Cut(part, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "AccountLockoutThreshold") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil && n >= 0 && n <= 999
	}
	return 0, false
}

// applyDeviceLock lays the MDM's DeviceLock values over the local ones.
// Where domain Group Policy (RSOP) sets the same sub-rule, it keeps
// precedence (Windows' default) unless ControlPolicyConflict/MDMWinsOverGP
// is 1; that switch is read only when both are present.
func applyDeviceLock(h host.Host, f *Facts, d deviceLock, domain map[string]int) {
	if !d.present() {
		return
	}
	f.Sources = append(f.Sources, "registry "+mdmDeviceLockKey)
	var prec *gpPrecedence
	over := func(dst *Setting, gpKey string, s Setting) {
		if _, ok := domain[gpKey]; !ok {
			*dst = s
			return
		}
		if prec == nil {
			p := readGPPrecedence(h, f)
			prec = &p
		}
		*dst = prec.resolve(f, gpKey, *dst, s)
	}
	if d.lockout != nil {
		over(&f.LockoutThreshold, "LockoutBadCount", known(*d.lockout, mdmSource+" AccountLockoutPolicy AccountLockoutThreshold"))
	}
	if v, ok := d.ints["DevicePasswordEnabled"]; ok && v != 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("the MDM turned the device password off (DeviceLock/DevicePasswordEnabled=%d), so its other DeviceLock values do not apply", v))
		return
	}
	src := func(name string, v int) string { return fmt.Sprintf("%s %s=%d", mdmSource, name, v) }
	if v, ok := d.ints["MinDevicePasswordLength"]; ok {
		over(&f.MinLength, "MinimumPasswordLength", known(v, src("MinDevicePasswordLength", v)))
	}
	if s, ok := deviceLockClasses(d.ints); ok {
		over(&f.MinClasses, "PasswordComplexity", s)
	}
	if v, ok := d.ints["DevicePasswordExpiration"]; ok {
		over(&f.MaxAgeDays, "MaximumPasswordAge", known(v, src("DevicePasswordExpiration", v)))
	}
	if v, ok := d.ints["DevicePasswordHistory"]; ok {
		over(&f.History, "PasswordHistorySize", known(v, src("DevicePasswordHistory", v)))
	}
	if v, ok := d.ints["MaxDevicePasswordFailedAttempts"]; ok && v > 0 {
		applyFailedAttempts(f, v)
	}
}

// deviceLockClasses turns the MDM's complexity policies into a number of
// character classes. Unless AlphanumericDevicePasswordRequired is 0 (its
// default is 2) a numeric PIN is accepted, which is one class.
func deviceLockClasses(ints map[string]int) (Setting, bool) {
	alpha, hasAlpha := ints["AlphanumericDevicePasswordRequired"]
	cc, hasCC := ints["MinDevicePasswordComplexCharacters"]
	if !hasAlpha && !hasCC {
		return Setting{}, false
	}
	if !hasAlpha {
		alpha = 2
	}
	if alpha != 0 {
		s := known(1, fmt.Sprintf("%s AlphanumericDevicePasswordRequired=%d", mdmSource, alpha))
		s.Detail = "a numeric PIN is accepted, so MinDevicePasswordComplexCharacters does not apply"
		return s, true
	}
	if !hasCC {
		cc = 1 // the documented default
	}
	return known(min(max(cc, 1), 4), fmt.Sprintf("%s AlphanumericDevicePasswordRequired=0, MinDevicePasswordComplexCharacters=%d", mdmSource, cc)), true
}

// applyFailedAttempts counts MaxDevicePasswordFailedAttempts as a lockout:
// on a PC, reaching it restarts the device into BitLocker recovery. It is
// a separate mechanism from account lockout, so the stricter of the two
// decides, whatever Group Policy says about account lockout.
func applyFailedAttempts(f *Facts, v int) {
	cur := f.LockoutThreshold
	if cur.Unknown == "" && cur.Value > 0 && cur.Value <= v {
		return
	}
	s := known(v, fmt.Sprintf("%s MaxDevicePasswordFailedAttempts=%d", mdmSource, v))
	s.Detail = "after this many failed sign-ins the PC restarts into BitLocker recovery; without BitLocker Windows cannot enforce it"
	f.LockoutThreshold = s
}
