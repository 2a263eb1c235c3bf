package policy

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/postern-dev/postern/checks"
)

// MaxDeviceKeyGrace bounds the grace a policy file may give devices
// without a hardware key.
const MaxDeviceKeyGrace = 365 * 24 * time.Hour

// DeviceKey is the policy on where a device's key lives, set by
// `device_key: {require: hardware, enforcement: warn_then_block, grace: 720h}`.
type DeviceKey struct {
	// RequireHardware makes a device whose key was not attested to be in
	// a trusted TPM at enrollment count against it.
	RequireHardware bool
	// Enforcement is what that does, as for controls; block by default.
	Enforcement checks.Enforcement
	// Grace, under warn_then_block, is how long after enrollment such a
	// device is still allowed, with a warning.
	Grace time.Duration
}

// DefaultDeviceKey requires nothing: hardware keys are shown, not
// required, until the security team says so (most fleets need their TPM
// manufacturers' CAs configured first).
func DefaultDeviceKey() DeviceKey {
	return DeviceKey{Enforcement: checks.EnforceBlock}
}

func parseDeviceKey(d *DeviceKey, n *yaml.Node, field string) error {
	if n.Kind != yaml.MappingNode {
		return &checks.PolicyError{Line: n.Line, Field: field, Msg: "must be a mapping"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := field + "." + k.Value
		if v.Kind != yaml.ScalarNode {
			return &checks.PolicyError{Line: v.Line, Field: f, Msg: "must be a single value"}
		}
		switch k.Value {
		case "require":
			switch v.Value {
			case "hardware":
				d.RequireHardware = true
			case "any":
				d.RequireHardware = false
			default:
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not hardware or any", v.Value)}
			}
		case "enforcement":
			switch e := checks.Enforcement(v.Value); e {
			case checks.EnforceReport, checks.EnforceNotify, checks.EnforceWarnThenBlock, checks.EnforceBlock:
				d.Enforcement = e
			default:
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not report, notify, warn_then_block or block", v.Value)}
			}
		case "grace":
			g, err := parseDays(v.Value)
			if err != nil {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a duration such as 720h or 30d", v.Value)}
			}
			if g < 0 || g > MaxDeviceKeyGrace {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: "must be between 0 and 365d"}
			}
			d.Grace = g
		default:
			return &checks.PolicyError{Line: k.Line, Field: f, Msg: "unknown field"}
		}
	}
	return nil
}

// parseDays is time.ParseDuration that also takes whole days ("30d").
func parseDays(s string) (time.Duration, error) {
	var days int
	if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && fmt.Sprintf("%dd", days) == s {
		if days < 0 || days > 36500 {
			return 0, fmt.Errorf("%d days out of range", days)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
