package passwordpolicy

import (
	"errors"
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

// withMDMWinsOverGP adds the hand-written ControlPolicyConflict switch
// (REG_DWORD, see testdata/README.md) or an error reading it.
func withMDMWinsOverGP(h *host.Fake, v uint64, err error) *host.Fake {
	return h.AddRegistry(controlPolicyConflictKey, mdmWinsOverGPName, host.RegistryValue{Type: "REG_DWORD", Integer: v}, err)
}

func TestCollectWindowsMDMWinsOverGP(t *testing.T) {
	hardened := "secpol.inf__hardened_utf16_handwritten.txt"
	// domainAndMDM is a domain-joined, MDM-enrolled machine whose domain
	// Group Policy and MDM disagree on the minimum length.
	domainAndMDM := func(gpLength int, mdmLength uint64) *host.Fake {
		return withDeviceLock(windowsHost(t, hardened), map[string]uint64{"MinDevicePasswordLength": mdmLength}).
			AddWMI(rsopNamespace, rsopNumeric, []map[string]any{{"KeyName": "MinimumPasswordLength", "Setting": gpLength}}, nil)
	}
	denied := host.Wrap(host.ErrPermission, errors.New(`read registry HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\ControlPolicyConflict\MDMWinsOverGP: Access is denied.`))
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantLength  any
		wantSummary string
		wantText    string // in the min_length source or unknown reason
		wantSource  string // in Sources, when set
	}{
		{"with MDMWinsOverGP = 1 the MDM's stronger length wins over a weak domain Group Policy",
			withMDMWinsOverGP(domainAndMDM(6, 10), 1, nil), checks.StatusPass, 10,
			"length 10", "MDM (Policy CSP DeviceLock) MinDevicePasswordLength=10", `ControlPolicyConflict\MDMWinsOverGP=1`},
		{"with MDMWinsOverGP = 1 the MDM's weak length wins over a strong domain Group Policy and fails",
			withMDMWinsOverGP(domainAndMDM(12, 6), 1, nil), checks.StatusFail, 6,
			"min_length 6 (needs >= 8)", "MDM (Policy CSP DeviceLock) MinDevicePasswordLength=6", ""},
		{"with MDMWinsOverGP = 0 domain Group Policy wins",
			withMDMWinsOverGP(domainAndMDM(12, 6), 0, nil), checks.StatusPass, 12,
			"length 12", "domain Group Policy (RSOP MinimumPasswordLength)", `ControlPolicyConflict\MDMWinsOverGP=0`},
		{"without MDMWinsOverGP domain Group Policy wins (Windows' default)",
			domainAndMDM(12, 6), checks.StatusPass, 12,
			"length 12", "domain Group Policy (RSOP MinimumPasswordLength)", ""},
		{"an unreadable MDMWinsOverGP leaves a disagreeing sub-rule unknown",
			withMDMWinsOverGP(domainAndMDM(12, 10), 0, denied), checks.StatusUnknown, "unknown",
			"which wins is unknown", "Access is denied", ""},
		{"an unreadable MDMWinsOverGP does not matter where both agree",
			withMDMWinsOverGP(domainAndMDM(10, 10), 0, denied), checks.StatusPass, 10,
			"length 10", "domain Group Policy (RSOP MinimumPasswordLength)", ""},
		{"an undocumented MDMWinsOverGP value leaves a disagreeing sub-rule unknown",
			withMDMWinsOverGP(domainAndMDM(12, 10), 7, nil), checks.StatusUnknown, "unknown",
			"which wins is unknown", "unexpected REG_DWORD value 7", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if got := values(f)["min_length"]; got != tc.wantLength {
				t.Errorf("min_length = %v, want %v", got, tc.wantLength)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if text := f.MinLength.Source + f.MinLength.Unknown; !strings.Contains(text, tc.wantText) {
				t.Errorf("min_length source/reason %q, want it to contain %q", text, tc.wantText)
			}
			if tc.wantSource != "" && !strings.Contains(strings.Join(f.Sources, "\n"), tc.wantSource) {
				t.Errorf("sources %q do not name %q", f.Sources, tc.wantSource)
			}
		})
	}
	t.Run("the switch is not read when only one of Group Policy and the MDM sets a value", func(t *testing.T) {
		h := withMDMWinsOverGP(withDeviceLock(windowsHost(t, hardened), map[string]uint64{"MinDevicePasswordLength": 10}), 0, denied)
		res, f, err := run(t, h)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != checks.StatusPass || f.MinLength.Value != 10 {
			t.Errorf("got %s, min_length %+v", res.Status, f.MinLength)
		}
	})
}
