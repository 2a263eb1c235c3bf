package screenlock

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The MDM DeviceLock registry values are hand-written (see
// testdata/README.md for the documentation they follow).
func TestCollectWindowsMDM(t *testing.T) {
	noUser := func(h *host.Fake) *host.Fake {
		return h.AddWMI(`root\cimv2`, "SELECT UserName FROM Win32_ComputerSystem", []map[string]any{{"UserName": nil}}, nil)
	}
	// A user whose screen saver and sleep never lock.
	lax := func() *host.Fake { return withSleep(withConsoleUser(windowsHost()), 0, 0, 0, 0) }
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"an MDM-enforced 10 minute device lock passes whatever the user chose",
			lax().AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", dword(10), nil),
			checks.StatusPass, "MDM device lock inactivity limit", 600},
		{"the MDM device lock decides without a console user",
			noUser(windowsHost()).AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", dword(15), nil),
			checks.StatusPass, "15 min idle", 900},
		{"an MDM-enforced 30 minute device lock is over the limit and fails",
			lax().AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", dword(30), nil),
			checks.StatusFail, "30 min idle", 1800},
		{"an MDM timeout of 0 means no timeout",
			lax().AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", dword(0), nil),
			checks.StatusFail, "never locks", "never"},
		{"an MDM that turns the device password off does not lock",
			lax().AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", dword(5), nil).
				AddRegistry(mdmDeviceLockKey, "DevicePasswordEnabled", dword(1), nil),
			checks.StatusFail, "never locks", "never"},
		{"without an MDM the user's settings decide",
			lax(), checks.StatusFail, "never locks", "never"},
		{"an unreadable MDM value is unknown with the reason",
			lax().AddRegistry(mdmDeviceLockKey, "MaxInactivityTimeDeviceLock", host.RegistryValue{}, host.Wrap(host.ErrPermission, errors.New("Access is denied."))),
			checks.StatusUnknown, "access denied", "never"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; routes %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Routes)
			}
			if diff := cmp.Diff(tc.wantLock, res.Evidence["effective_lock_seconds"]); diff != "" {
				t.Errorf("effective_lock_seconds (-want +got):\n%s", diff)
			}
		})
	}
}
