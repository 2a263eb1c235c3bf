package checks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Enforcement says what a failing control does to the device's access.
type Enforcement string

// Enforcement levels, from mildest to strictest.
const (
	// EnforceReport records the failure; it never blocks and the user is not told.
	EnforceReport Enforcement = "report"
	// EnforceNotify tells the user but does not block.
	EnforceNotify Enforcement = "notify"
	// EnforceWarnThenBlock blocks once the control has failed for longer than its grace.
	EnforceWarnThenBlock Enforcement = "warn_then_block"
	// EnforceBlock blocks as soon as the control fails.
	EnforceBlock Enforcement = "block"
)

func (e Enforcement) valid() bool {
	switch e {
	case EnforceReport, EnforceNotify, EnforceWarnThenBlock, EnforceBlock:
		return true
	}
	return false
}

// UnknownDeny and UnknownAllow say how an unknown control is treated.
const (
	UnknownDeny  = "deny"
	UnknownAllow = "allow"
)

// DefaultMaxReportAge is how old the latest report may be before the
// device is denied as stale.
const DefaultMaxReportAge = 15 * time.Minute

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// ControlPolicy is the policy for one control.
type ControlPolicy struct {
	Enforcement Enforcement
	// Grace is how long a warn_then_block control may fail before it blocks.
	Grace time.Duration
	// Thresholds is the pointer returned by the control's DefaultThresholds
	// with the policy file's overrides applied; nil if it has none.
	Thresholds any
}

// Policy is the server's rules. The zero value is not useful: start from
// DefaultPolicy or ParsePolicy.
type Policy struct {
	MaxReportAge time.Duration
	// Unknown is UnknownDeny (the default: fail closed) or UnknownAllow.
	Unknown  string
	Controls map[ControlID]*ControlPolicy
}

// DefaultPolicy returns the Policy 550.04 profile: every control blocks,
// unknown denies, reports older than 15 minutes are stale.
func DefaultPolicy() *Policy {
	p := &Policy{MaxReportAge: DefaultMaxReportAge, Unknown: UnknownDeny, Controls: map[ControlID]*ControlPolicy{}}
	for _, id := range AllControlIDs {
		cp := &ControlPolicy{Enforcement: EnforceBlock}
		if c, ok := Lookup(id); ok && c.DefaultThresholds != nil {
			cp.Thresholds = c.DefaultThresholds()
		}
		p.Controls[id] = cp
	}
	return p
}

// Control returns the policy for id (never nil).
func (p *Policy) Control(id ControlID) *ControlPolicy {
	if p != nil {
		if cp, ok := p.Controls[id]; ok && cp != nil {
			return cp
		}
	}
	return &ControlPolicy{Enforcement: EnforceBlock}
}

// Thresholds returns the thresholds for id, or the control's defaults.
func (p *Policy) Thresholds(id ControlID) any {
	if cp := p.Control(id); cp.Thresholds != nil {
		return cp.Thresholds
	}
	if c, ok := Lookup(id); ok && c.DefaultThresholds != nil {
		return c.DefaultThresholds()
	}
	return nil
}

// PolicyError is a problem in a policy file, with the line it is on.
type PolicyError struct {
	Line  int
	Field string
	Msg   string
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("policy line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("policy: %s: %s", e.Field, e.Msg)
}

// ParsePolicy decodes a YAML policy strictly: unknown fields, unknown
// controls, bad durations and out-of-range values are errors naming the
// field and its line. Controls left out keep their defaults.
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Field: "file", Msg: fmt.Sprintf("larger than %d bytes", MaxPolicySize)}
	}
	p := DefaultPolicy()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return p, nil // an empty file is the default policy
		}
		return nil, &PolicyError{Field: "file", Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return p, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &PolicyError{Line: root.Line, Field: "file", Msg: "must be a mapping"}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "max_report_age":
			d, err := decodeDuration(v, "max_report_age")
			if err != nil {
				return nil, err
			}
			if d <= 0 || d > 30*24*time.Hour {
				return nil, &PolicyError{Line: v.Line, Field: "max_report_age", Msg: "must be between 1s and 720h"}
			}
			p.MaxReportAge = d
		case "unknown":
			if v.Value != UnknownDeny && v.Value != UnknownAllow {
				return nil, &PolicyError{Line: v.Line, Field: "unknown", Msg: fmt.Sprintf("%q is not deny or allow", v.Value)}
			}
			p.Unknown = v.Value
		case "controls":
			if err := parseControls(p, v); err != nil {
				return nil, err
			}
		default:
			return nil, &PolicyError{Line: k.Line, Field: k.Value, Msg: "unknown field"}
		}
	}
	return p, nil
}

func parseControls(p *Policy, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &PolicyError{Line: n.Line, Field: "controls", Msg: "must be a mapping of control IDs"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		id := ControlID(k.Value)
		if !id.Valid() {
			return &PolicyError{Line: k.Line, Field: "controls." + k.Value, Msg: "unknown control"}
		}
		if v.Kind != yaml.MappingNode {
			return &PolicyError{Line: v.Line, Field: "controls." + k.Value, Msg: "must be a mapping"}
		}
		cp := p.Control(id)
		p.Controls[id] = cp
		if err := parseControl(id, cp, v); err != nil {
			return err
		}
	}
	return nil
}

func parseControl(id ControlID, cp *ControlPolicy, n *yaml.Node) error {
	prefix := "controls." + string(id) + "."
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := prefix + k.Value
		switch k.Value {
		case "enforcement":
			e := Enforcement(v.Value)
			if !e.valid() {
				return &PolicyError{Line: v.Line, Field: field, Msg: fmt.Sprintf("%q is not report, notify, warn_then_block or block", v.Value)}
			}
			cp.Enforcement = e
		case "grace":
			d, err := decodeDuration(v, field)
			if err != nil {
				return err
			}
			if d < 0 || d > 365*24*time.Hour {
				return &PolicyError{Line: v.Line, Field: field, Msg: "must be between 0 and 8760h"}
			}
			cp.Grace = d
		default:
			if cp.Thresholds == nil {
				return &PolicyError{Line: k.Line, Field: field, Msg: "unknown field (this control has no thresholds)"}
			}
			if err := setThreshold(cp.Thresholds, k, v, field); err != nil {
				return err
			}
		}
	}
	if v, ok := cp.Thresholds.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return &PolicyError{Line: n.Line, Field: strings.TrimSuffix(prefix, "."), Msg: err.Error()}
		}
	}
	return nil
}

// setThreshold decodes v into the field of the thresholds struct whose yaml
// tag is k's value.
func setThreshold(thresholds any, k, v *yaml.Node, field string) error {
	rv := reflect.ValueOf(thresholds)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return &PolicyError{Line: k.Line, Field: field, Msg: "control thresholds are not a struct"}
	}
	st := rv.Elem()
	for i := 0; i < st.NumField(); i++ {
		tag := strings.Split(st.Type().Field(i).Tag.Get("yaml"), ",")[0]
		if tag != k.Value {
			continue
		}
		if err := v.Decode(st.Field(i).Addr().Interface()); err != nil {
			return &PolicyError{Line: v.Line, Field: field, Msg: cleanYAMLError(err)}
		}
		return nil
	}
	return &PolicyError{Line: k.Line, Field: field, Msg: "unknown field"}
}

func decodeDuration(v *yaml.Node, field string) (time.Duration, error) {
	d, err := time.ParseDuration(v.Value)
	if err != nil || v.Kind != yaml.ScalarNode {
		return 0, &PolicyError{Line: v.Line, Field: field, Msg: fmt.Sprintf("%q is not a duration such as 15m or 72h", v.Value)}
	}
	return d, nil
}

func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	return strings.TrimSpace(s)
}
