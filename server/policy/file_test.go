package policy

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

const sample = `max_report_age: 30m
controls:
  firewall:
    enforcement: warn_then_block
    grace: 48h
attestation:
  required: true
profiles:
  clinic-a:
    max_report_age: 1h
    attestation:
      required: false
  clinic-b:
    controls:
      firewall:
        enforcement: report
`

func TestParse(t *testing.T) {
	s, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		MaxAge      time.Duration
		Firewall    checks.Enforcement
		Grace       time.Duration
		Attest      bool
		AttestMaxAg time.Duration
	}
	viewOf := func(p *Profile) view {
		cp := p.Policy.Control(checks.Firewall)
		return view{p.Policy.MaxReportAge, cp.Enforcement, cp.Grace, p.Attestation.Required, p.Attestation.MaxAge}
	}
	tests := []struct {
		name string
		org  string
		want view
	}{
		{"the top level is the default profile", "", view{30 * time.Minute, checks.EnforceWarnThenBlock, 48 * time.Hour, true, DefaultAttestationMaxAge}},
		{"an unlisted organization gets the default profile", "clinic-z", view{30 * time.Minute, checks.EnforceWarnThenBlock, 48 * time.Hour, true, DefaultAttestationMaxAge}},
		{"a profile overrides a top-level field and inherits the rest", "clinic-a", view{time.Hour, checks.EnforceWarnThenBlock, 48 * time.Hour, false, DefaultAttestationMaxAge}},
		{"a profile overrides one field of a control and keeps its grace", "clinic-b", view{30 * time.Minute, checks.EnforceReport, 48 * time.Hour, true, DefaultAttestationMaxAge}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, viewOf(s.For(tt.org))); diff != "" {
				t.Errorf("profile (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the agent's copy of a profile is a valid checks policy with the same rules", func(t *testing.T) {
		p, err := checks.ParsePolicy(s.For("clinic-b").AgentYAML)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxReportAge != 30*time.Minute || p.Control(checks.Firewall).Enforcement != checks.EnforceReport {
			t.Errorf("agent policy = %+v", p)
		}
	})
	t.Run("a file valid for checks.ParsePolicy is valid here", func(t *testing.T) {
		data := []byte("unknown: allow\ncontrols:\n  screen_lock:\n    enforcement: notify\n")
		if _, err := checks.ParsePolicy(data); err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if s.Default.Policy.Unknown != checks.UnknownAllow || s.Default.Attestation != DefaultAttestation() {
			t.Errorf("default = %+v, attestation %+v", s.Default.Policy, s.Default.Attestation)
		}
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantLine  int
		wantField string
	}{
		{"an unknown top-level field", "max_report_age: 5m\nbogus: 1\n", 2, "bogus"},
		{"a bad duration in the default profile", "controls:\n  firewall:\n    grace: soon\n", 3, "controls.firewall.grace"},
		{"a bad enforcement inside a profile", "profiles:\n  a:\n    controls:\n      firewall:\n        enforcement: never\n", 5, "profiles.a.controls.firewall.enforcement"},
		{"an unknown field inside a profile's attestation", "profiles:\n  a:\n    attestation:\n      yearly: true\n", 4, "profiles.a.attestation.yearly"},
		{"an attestation age over a year", "attestation:\n  max_age: 9000h\n", 2, "attestation.max_age"},
		{"an attestation grace over 90 days", "attestation:\n  grace: 3000h\n", 2, "attestation.grace"},
		{"nested profiles", "profiles:\n  a:\n    profiles: {}\n", 3, "profiles.a.profiles"},
		{"profiles that are not a mapping", "profiles: [a]\n", 1, "profiles"},
		{"an unknown control in a profile", "profiles:\n  a:\n    controls:\n      teleport: {}\n", 4, "profiles.a.controls.teleport"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an error naming its field and line", func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var pe *checks.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *checks.PolicyError", err)
			}
			if pe.Line != tt.wantLine || pe.Field != tt.wantField {
				t.Errorf("error at line %d field %q, want line %d field %q (%v)", pe.Line, pe.Field, tt.wantLine, tt.wantField, err)
			}
		})
	}
}

func TestBuiltin(t *testing.T) {
	s := Builtin()
	if a := s.Default.Attestation; !a.Required || a.MaxAge != 365*24*time.Hour || a.Grace != 7*24*time.Hour {
		t.Errorf("the built-in policy's attestation is %+v, want required yearly with a week's grace", a)
	}
	if s.For("any").Policy.Control(checks.Firewall).Enforcement != checks.EnforceBlock {
		t.Error("the built-in policy does not block a failing firewall")
	}
}
