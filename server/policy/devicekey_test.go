package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func TestDeviceKeySettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    DeviceKey
		wantOrg DeviceKey
		wantErr string
	}{
		{"nothing set requires no hardware key", ``, DefaultDeviceKey(), DefaultDeviceKey(), ""},
		{"hardware with warn_then_block and a grace in days", "device_key: {require: hardware, enforcement: warn_then_block, grace: 30d}\nprofiles: {clinic: {}}\n",
			DeviceKey{RequireHardware: true, Enforcement: checks.EnforceWarnThenBlock, Grace: 30 * 24 * time.Hour},
			DeviceKey{RequireHardware: true, Enforcement: checks.EnforceWarnThenBlock, Grace: 30 * 24 * time.Hour}, ""},
		{"an organization can relax it", "device_key: {require: hardware}\nprofiles: {lab: {device_key: {require: any}}}\n",
			DeviceKey{RequireHardware: true, Enforcement: checks.EnforceBlock}, DeviceKey{Enforcement: checks.EnforceBlock}, ""},
		{"an unknown requirement is refused", "device_key: {require: tpm}\n", DeviceKey{}, DeviceKey{}, "device_key.require"},
		{"an unknown enforcement is refused", "device_key: {enforcement: deny}\n", DeviceKey{}, DeviceKey{}, "device_key.enforcement"},
		{"a grace past a year is refused", "device_key: {grace: 400d}\n", DeviceKey{}, DeviceKey{}, "device_key.grace"},
		{"an unknown field is refused", "device_key: {required: true}\n", DeviceKey{}, DeviceKey{}, "device_key.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse([]byte(tt.yaml))
			if tt.wantErr != "" {
				var pe *checks.PolicyError
				if !errors.As(err, &pe) || !strings.Contains(pe.Field, tt.wantErr) {
					t.Fatalf("got %v, want an error on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, set.Default.DeviceKey); diff != "" {
				t.Errorf("default (-want +got):\n%s", diff)
			}
			for _, p := range set.Profiles {
				if diff := cmp.Diff(tt.wantOrg, p.DeviceKey); diff != "" {
					t.Errorf("%s (-want +got):\n%s", p.Name, diff)
				}
			}
		})
	}
}
