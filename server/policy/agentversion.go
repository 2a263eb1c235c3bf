package policy

import (
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"
	"gopkg.in/yaml.v3"

	"github.com/postern-dev/postern/checks"
)

// MaxAgentVersionGrace bounds how long a policy may warn about an old
// agent before blocking it.
const MaxAgentVersionGrace = 365 * 24 * time.Hour

// AgentVersion is the policy's minimum agent version, set by
// `agent_version: {minimum: 1.4.0, enforcement: warn_then_block, since: 2027-01-04, grace: 30d}`.
type AgentVersion struct {
	// Minimum is the oldest agent version allowed; nil requires none.
	Minimum *semver.Version
	// Enforcement is what an older agent does, as for controls; block by
	// default.
	Enforcement checks.Enforcement
	// Since is the day the minimum took effect; under warn_then_block an
	// older agent is warned until Since+Grace, then blocked. Every device
	// gets the same date: the fleet upgrades by one deadline.
	Since time.Time
	Grace time.Duration
}

// DefaultAgentVersion requires no version.
func DefaultAgentVersion() AgentVersion {
	return AgentVersion{Enforcement: checks.EnforceBlock}
}

// ParseAgentVersion reads a version an agent gave (or a policy's minimum):
// semantic versions, a leading "v" allowed. Anything else ("dev", empty)
// is an error: the caller treats such an agent as older than any minimum.
func ParseAgentVersion(s string) (*semver.Version, error) {
	v, err := semver.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("agent version %q: %w", s, err)
	}
	return v, nil
}

func parseAgentVersion(a *AgentVersion, n *yaml.Node, field string) error {
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
		case "minimum":
			if v.Value == "" || v.Value == "none" {
				a.Minimum = nil
				continue
			}
			m, err := ParseAgentVersion(v.Value)
			if err != nil {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a version such as 1.4.0 (or none)", v.Value)}
			}
			a.Minimum = m
		case "enforcement":
			switch e := checks.Enforcement(v.Value); e {
			case checks.EnforceReport, checks.EnforceNotify, checks.EnforceWarnThenBlock, checks.EnforceBlock:
				a.Enforcement = e
			default:
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not report, notify, warn_then_block or block", v.Value)}
			}
		case "since":
			d, err := time.Parse(time.DateOnly, v.Value)
			if err != nil {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a date such as 2027-01-04", v.Value)}
			}
			a.Since = d
		case "grace":
			g, err := parseDays(v.Value)
			if err != nil {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a duration such as 720h or 30d", v.Value)}
			}
			if g < 0 || g > MaxAgentVersionGrace {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: "must be between 0 and 365d"}
			}
			a.Grace = g
		default:
			return &checks.PolicyError{Line: k.Line, Field: f, Msg: "unknown field"}
		}
	}
	if a.Minimum != nil && a.Enforcement == checks.EnforceWarnThenBlock && a.Since.IsZero() {
		return &checks.PolicyError{Line: n.Line, Field: field + ".since",
			Msg: "warn_then_block needs since, the day the minimum took effect (the grace counts from it)"}
	}
	return nil
}
