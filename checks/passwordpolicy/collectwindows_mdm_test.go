package passwordpolicy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// withDeviceLock adds hand-written MDM DeviceLock registry values, as the
// Policy CSP stores them (REG_DWORD per policy, see testdata/README.md).
func withDeviceLock(h *host.Fake, vals map[string]uint64) *host.Fake {
	for name, v := range vals {
		h.AddRegistry(mdmDeviceLockKey, name, host.RegistryValue{Type: "REG_DWORD", Integer: v}, nil)
	}
	return h
}

func TestCollectWindowsMDM(t *testing.T) {
	defaults := "secpol.inf__win11_defaults_utf16_handwritten.txt"
	hardened := "secpol.inf__hardened_utf16_handwritten.txt"
	compliant := map[string]uint64{
		"DevicePasswordEnabled": 0, "MinDevicePasswordLength": 10, "AlphanumericDevicePasswordRequired": 0,
		"MinDevicePasswordComplexCharacters": 3, "DevicePasswordExpiration": 60, "DevicePasswordHistory": 12,
		"MaxDevicePasswordFailedAttempts": 5,
	}
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantValues  map[string]any
		wantSummary string
		wantSource  string
	}{
		{"an MDM-enforced compliant DeviceLock policy overrides weak local values",
			withDeviceLock(windowsHost(t, defaults), compliant), checks.StatusPass,
			map[string]any{"min_length": 10, "min_classes": 3, "max_age_days": 60, "history": 12, "lockout_threshold": 5},
			"length 10", "MDM (Policy CSP DeviceLock) MinDevicePasswordLength=10"},
		{"an MDM-enforced weak DeviceLock policy overrides a hardened local policy and fails",
			withDeviceLock(windowsHost(t, hardened), map[string]uint64{
				"MinDevicePasswordLength": 6, "DevicePasswordExpiration": 0, "DevicePasswordHistory": 2,
			}), checks.StatusFail,
			map[string]any{"min_length": 6, "min_classes": 3, "max_age_days": 0, "history": 2, "lockout_threshold": 5},
			"min_length 6 (needs >= 8), max_age_days never expires (needs 1-90), history 2 (needs >= 6)",
			"MDM (Policy CSP DeviceLock) MinDevicePasswordLength=6"},
		{"without an MDM the local values stand",
			windowsHost(t, hardened), checks.StatusPass,
			map[string]any{"min_length": 8, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"length 8", "secedit /export"},
		{"an MDM that allows a numeric PIN counts as one character class",
			withDeviceLock(windowsHost(t, hardened), map[string]uint64{"MinDevicePasswordComplexCharacters": 3}), checks.StatusFail,
			map[string]any{"min_length": 8, "min_classes": 1, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"min_classes 1", "secedit /export"},
		{"an MDM that turns the device password off does not apply its other values",
			withDeviceLock(windowsHost(t, hardened), map[string]uint64{"DevicePasswordEnabled": 1, "MinDevicePasswordLength": 4}), checks.StatusPass,
			map[string]any{"min_length": 8, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"length 8", "secedit /export"},
		{"domain Group Policy keeps precedence over the MDM",
			withDeviceLock(windowsHost(t, defaults), map[string]uint64{"MinDevicePasswordLength": 6}).
				AddWMI(rsopNamespace, rsopNumeric, []map[string]any{{"KeyName": "MinimumPasswordLength", "Setting": 12}}, nil),
			checks.StatusFail,
			map[string]any{"min_length": 12, "min_classes": 0, "max_age_days": 42, "history": 0, "lockout_threshold": 10},
			"min_classes 0", "domain Group Policy (RSOP MinimumPasswordLength)"},
		{"the stricter of account lockout and the MDM's BitLocker recovery decides",
			withDeviceLock(windowsHost(t, defaults), map[string]uint64{"MaxDevicePasswordFailedAttempts": 4}), checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": 0, "max_age_days": 42, "history": 0, "lockout_threshold": 4},
			"min_length 0", "secedit /export"},
		{"the MDM's AccountLockoutPolicy string sets the account lockout threshold",
			windowsHost(t, defaults).AddRegistry(mdmDeviceLockKey, "AccountLockoutPolicy",
				host.RegistryValue{Type: "REG_SZ", String: "AccountLockoutDuration:30, AccountLockoutThreshold:5, ResetAccountLockoutCounterAfter:60"}, nil),
			checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": 0, "max_age_days": 42, "history": 0, "lockout_threshold": 5},
			"min_length 0", "secedit /export"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantValues, values(f)); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if !strings.HasPrefix(f.MinLength.Source, tc.wantSource) {
				t.Errorf("min_length source %q, want it to start with %q", f.MinLength.Source, tc.wantSource)
			}
		})
	}
}

func TestParseAccountLockoutPolicy(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		ok       bool
	}{
		{"the documented example gives its threshold", "AccountLockoutDuration:30, AccountLockoutThreshold:5, ResetAccountLockoutCounterAfter:60", 5, true},
		{"a zero threshold means never", "AccountLockoutThreshold:0", 0, true},
		{"a string without a threshold is rejected", "AccountLockoutDuration:30", 0, false},
		{"a threshold out of the documented range is rejected", "AccountLockoutThreshold:5000", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseAccountLockoutPolicy(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("got %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
