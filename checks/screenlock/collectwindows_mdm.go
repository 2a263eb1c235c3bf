package screenlock

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/postern-dev/postern/checks/host"
)

// mdmDeviceLockKey holds the Policy CSP DeviceLock values an MDM (Intune)
// delivered.
const mdmDeviceLockKey = `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\DeviceLock`

// mdmInactivity is DeviceLock/MaxInactivityTimeDeviceLock: a machine
// policy that locks the device with its password after that many minutes
// idle (0 is no timeout). It only applies while the MDM leaves the device
// password on (DevicePasswordEnabled 0, the default). ok is false when no
// MDM set it.
func mdmInactivity(h host.Host, f *Facts) (Route, bool) {
	const name = "MaxInactivityTimeDeviceLock"
	r := Route{Name: "MDM device lock inactivity limit", PasswordRequired: true, Source: mdmDeviceLockKey + ` ` + name}
	v, err := h.Registry(mdmDeviceLockKey, name)
	switch {
	case errors.Is(err, host.ErrNotFound), errors.Is(err, host.ErrNotSupported):
		return r, false
	case err != nil:
		r.Unknown = registryReason(mdmDeviceLockKey, name, err)
		return r, true
	}
	minutes, ok := regInt(v)
	if !ok || minutes < 0 || minutes > 999 {
		r.Unknown = fmt.Sprintf("%s has the unexpected value %s", name, regString(v))
		return r, true
	}
	f.Settings = append(f.Settings, Setting{Name: name, Value: strconv.Itoa(minutes), Source: mdmDeviceLockKey})
	if pv, err := h.Registry(mdmDeviceLockKey, "DevicePasswordEnabled"); err == nil {
		if n, ok := regInt(pv); ok && n != 0 {
			f.Settings = append(f.Settings, Setting{Name: "DevicePasswordEnabled", Value: strconv.Itoa(n), Source: mdmDeviceLockKey})
			f.Notes = append(f.Notes, "the MDM turned the device password off (DeviceLock/DevicePasswordEnabled=1), so MaxInactivityTimeDeviceLock does not apply")
			r.Source += " (not applied: DevicePasswordEnabled=1)"
			return r, true
		}
	}
	r.IdleSeconds = minutes * 60
	return r, true
}
