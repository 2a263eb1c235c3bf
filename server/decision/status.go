package decision

import "github.com/postern-dev/postern/server/store"

// Status is a device's status on every surface (dashboard lists, the
// management API's devices): why d denies for the device's lifecycle
// (revoked, inactive, stale), otherwise compliant when allowed and
// noncompliant when denied.
func Status(d Decision) store.DeviceStatus {
	switch Lifecycle(d) {
	case "revoked":
		return store.StatusRevoked
	case "inactive":
		return store.StatusInactive
	case "stale":
		return store.StatusStale
	}
	if d.Allow {
		return store.StatusCompliant
	}
	return store.StatusNoncompliant
}
