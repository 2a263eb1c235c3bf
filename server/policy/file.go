package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/postern-dev/postern/checks"
)

// Limits and defaults of the server-only settings.
const (
	// DefaultAttestationMaxAge is how long a user attestation counts: a year.
	DefaultAttestationMaxAge = 365 * 24 * time.Hour
	// DefaultAttestationGrace is how long a device may go without a valid
	// attestation — after enrollment, or after the last one expired —
	// before it is denied: a week to answer the agent's prompt.
	DefaultAttestationGrace = 7 * 24 * time.Hour
	// MaxAttestationGrace bounds the grace a policy file may set.
	MaxAttestationGrace = 90 * 24 * time.Hour
	// MaxProfiles bounds the organizations one file may configure.
	MaxProfiles = 1000
	maxOrgLen   = 128
)

// Attestation is the policy for the yearly user attestation of what a
// machine cannot show (Policy 550.04 C.7.a.vi, vii, x, xi).
type Attestation struct {
	// Required denies devices without an attestation newer than MaxAge.
	Required bool
	MaxAge   time.Duration
	// Grace is how long a device without a valid attestation is still
	// allowed (with a warning): counted from enrollment when it never had
	// one, else from when the last one expired.
	Grace time.Duration
}

// DefaultAttestation is the Policy 550.04 default: required yearly, with a
// week's grace.
func DefaultAttestation() Attestation {
	return Attestation{Required: true, MaxAge: DefaultAttestationMaxAge, Grace: DefaultAttestationGrace}
}

// Profile is the complete policy for one organization (or the default).
type Profile struct {
	// Name is the organization, or "" for the default profile.
	Name        string
	Policy      *checks.Policy
	Attestation Attestation
	// DeviceKey says whether the device key must be hardware-bound.
	DeviceKey DeviceKey
	// AgentVersion is the minimum agent version, if any.
	AgentVersion AgentVersion
	// AgentYAML is the profile in checks.ParsePolicy's format, pushed to
	// agents of the organization; nil for the built-in default.
	AgentYAML []byte
}

// Set is one version of the whole policy file.
type Set struct {
	// Version increases by one with every applied change; Manager sets it.
	Version uint64
	// Hash is the hex SHA-256 of the file ("builtin" for the default).
	Hash    string
	Default *Profile
	// Profiles maps an organization label (as on enrollment tokens) to its
	// profile.
	Profiles map[string]*Profile
	// Source is the file's path, or "" for the built-in default.
	Source string
	// YAML is the file as read; nil for the built-in default.
	YAML []byte
}

// For returns the profile of the organization, falling back to the default.
func (s *Set) For(org string) *Profile {
	if p, ok := s.Profiles[org]; ok {
		return p
	}
	return s.Default
}

// Builtin returns the built-in Policy 550.04 profile: checks.DefaultPolicy
// and a yearly user attestation with a week's grace (see docs/policy.md).
func Builtin() *Set {
	return &Set{Hash: "builtin", Default: &Profile{Policy: checks.DefaultPolicy(),
		Attestation: DefaultAttestation(), DeviceKey: DefaultDeviceKey(), AgentVersion: DefaultAgentVersion()}, Profiles: map[string]*Profile{}}
}

// serverKeys are the top-level keys that checks.ParsePolicy does not know.
var serverKeys = map[string]bool{"profiles": true, "attestation": true, "device_key": true, "agent_version": true}

// Parse decodes a policy file strictly. Errors are *checks.PolicyError
// naming the field and its line in this file.
func Parse(data []byte) (*Set, error) {
	if len(data) > checks.MaxPolicySize {
		return nil, &checks.PolicyError{Field: "file", Msg: fmt.Sprintf("larger than %d bytes", checks.MaxPolicySize)}
	}
	sum := sha256.Sum256(data)
	set := &Set{Hash: hex.EncodeToString(sum[:]), Profiles: map[string]*Profile{}, YAML: data}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &checks.PolicyError{Field: "file", Msg: err.Error()}
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &checks.PolicyError{Line: root.Line, Field: "file", Msg: "must be a mapping"}
	}
	base, extra := split(root)
	def, err := buildProfile("", base, nil, extra, &Profile{Attestation: DefaultAttestation(), DeviceKey: DefaultDeviceKey(), AgentVersion: DefaultAgentVersion()}, "")
	if err != nil {
		return nil, err
	}
	set.Default = def
	if n := extra["profiles"]; n != nil {
		if err := parseProfiles(set, base, n); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func parseProfiles(set *Set, base, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &checks.PolicyError{Line: n.Line, Field: "profiles", Msg: "must be a mapping of organizations"}
	}
	if len(n.Content)/2 > MaxProfiles {
		return &checks.PolicyError{Line: n.Line, Field: "profiles", Msg: fmt.Sprintf("more than %d organizations", MaxProfiles)}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		org := k.Value
		field := "profiles." + org
		if err := validOrg(org); err != nil {
			return &checks.PolicyError{Line: k.Line, Field: field, Msg: err.Error()}
		}
		if _, dup := set.Profiles[org]; dup {
			return &checks.PolicyError{Line: k.Line, Field: field, Msg: "organization listed twice"}
		}
		if v.Kind != yaml.MappingNode {
			return &checks.PolicyError{Line: v.Line, Field: field, Msg: "must be a mapping"}
		}
		over, extra := split(v)
		if p := extra["profiles"]; p != nil {
			return &checks.PolicyError{Line: p.Line, Field: field + ".profiles", Msg: "profiles cannot be nested"}
		}
		p, err := buildProfile(org, merge(base, over), over, extra, set.Default, field+".")
		if err != nil {
			return err
		}
		set.Profiles[org] = p
	}
	return nil
}

func validOrg(org string) error {
	if org == "" || len(org) > maxOrgLen {
		return fmt.Errorf("organization must be 1 to %d characters", maxOrgLen)
	}
	for _, r := range org {
		if !unicode.IsPrint(r) {
			return errors.New("organization must be printable")
		}
	}
	return nil
}

// buildProfile parses the checks part of a profile (re-encoded from n) and
// its server-only settings (extra: attestation, device_key, agent_version) over the
// inherited profile's. n may mix nodes of the default profile and of
// over, the organization's overrides; prefix is prepended to fields of
// errors found in over.
func buildProfile(name string, n, over *yaml.Node, extra map[string]*yaml.Node, inherited *Profile, prefix string) (*Profile, error) {
	agentYAML, err := yaml.Marshal(n)
	if err != nil {
		return nil, &checks.PolicyError{Field: strings.TrimSuffix(prefix, "."), Msg: err.Error()}
	}
	p, err := checks.ParsePolicy(agentYAML)
	if err != nil {
		var pe *checks.PolicyError
		if errors.As(err, &pe) {
			// Lines refer to the re-encoded text: point at the original.
			pe.Line = lineOf(n, pe.Field)
			if over != nil && find(over, pe.Field) != nil {
				pe.Field = prefix + pe.Field
			}
		}
		return nil, err
	}
	a := inherited.Attestation
	if att := extra["attestation"]; att != nil {
		if err := parseAttestation(&a, att, prefix+"attestation"); err != nil {
			return nil, err
		}
	}
	dk := inherited.DeviceKey
	if n := extra["device_key"]; n != nil {
		if err := parseDeviceKey(&dk, n, prefix+"device_key"); err != nil {
			return nil, err
		}
	}
	av := inherited.AgentVersion
	if n := extra["agent_version"]; n != nil {
		if err := parseAgentVersion(&av, n, prefix+"agent_version"); err != nil {
			return nil, err
		}
	}
	if len(n.Content) == 0 && name == "" {
		agentYAML = nil
	}
	return &Profile{Name: name, Policy: p, Attestation: a, DeviceKey: dk, AgentVersion: av, AgentYAML: agentYAML}, nil
}

func parseAttestation(a *Attestation, n *yaml.Node, field string) error {
	if n.Kind != yaml.MappingNode {
		return &checks.PolicyError{Line: n.Line, Field: field, Msg: "must be a mapping"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := field + "." + k.Value
		switch k.Value {
		case "required":
			if err := v.Decode(&a.Required); err != nil || v.Kind != yaml.ScalarNode {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not true or false", v.Value)}
			}
		case "max_age":
			d, err := time.ParseDuration(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a duration such as 8760h", v.Value)}
			}
			if d < 24*time.Hour || d > DefaultAttestationMaxAge {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: "must be between 24h and 8760h"}
			}
			a.MaxAge = d
		case "grace":
			d, err := time.ParseDuration(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: fmt.Sprintf("%q is not a duration such as 168h", v.Value)}
			}
			if d < 0 || d > MaxAttestationGrace {
				return &checks.PolicyError{Line: v.Line, Field: f, Msg: "must be between 0 and 2160h"}
			}
			a.Grace = d
		default:
			return &checks.PolicyError{Line: k.Line, Field: f, Msg: "unknown field"}
		}
	}
	return nil
}

// split separates a mapping's server-only keys from the checks policy.
func split(m *yaml.Node) (base *yaml.Node, extra map[string]*yaml.Node) {
	base = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: m.Line}
	extra = map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if serverKeys[k.Value] {
			extra[k.Value] = v
			continue
		}
		base.Content = append(base.Content, k, v)
	}
	return base, extra
}

// merge returns base with over applied: mappings merge key by key (so a
// profile may change one threshold of one control), anything else in over
// replaces. Neither input is modified.
func merge(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line}
	out.Content = append(out.Content, base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		replaced := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = merge(out.Content[j+1], v)
				replaced = true
				break
			}
		}
		if !replaced {
			out.Content = append(out.Content, k, v)
		}
	}
	return out
}

// find returns the node at a dotted field path ("controls.firewall.grace"),
// the key node when the last element names a key.
func find(n *yaml.Node, path string) *yaml.Node {
	if n == nil || path == "" {
		return nil
	}
	head, rest, more := strings.Cut(path, ".")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != head {
			continue
		}
		if !more {
			return n.Content[i+1]
		}
		if got := find(n.Content[i+1], rest); got != nil {
			return got
		}
		return n.Content[i]
	}
	return nil
}

func lineOf(n *yaml.Node, path string) int {
	if f := find(n, path); f != nil {
		return f.Line
	}
	if n != nil {
		return n.Line
	}
	return 0
}
