package checks

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
)

// testThresholds stands in for a control's thresholds in this package's
// tests; the real controls live in sub-packages.
type testThresholds struct {
	MaxIdleSeconds int      `yaml:"max_idle_seconds"`
	Allowed        []string `yaml:"allowed"`
}

func (t *testThresholds) Validate() error {
	if t.MaxIdleSeconds <= 0 {
		return errors.New("max_idle_seconds must be positive")
	}
	return nil
}

type lockFacts struct {
	IdleSeconds int `json:"idle_seconds"`
}

func init() {
	Register(Control{
		ID: ScreenLock,
		Collect: func(ctx context.Context, h host.Host) (any, error) {
			return lockFacts{IdleSeconds: 600}, nil
		},
		Evaluate: func(in EvalInput) Result {
			var f lockFacts
			if err := json.Unmarshal(in.Facts, &f); err != nil {
				return Unknown("bad facts")
			}
			th := in.Thresholds.(*testThresholds)
			if f.IdleSeconds > th.MaxIdleSeconds {
				return Result{Status: StatusFail, Summary: "too long", Remediation: "shorten it"}
			}
			return Result{Status: StatusPass, Summary: "ok"}
		},
		DefaultThresholds: func() any { return &testThresholds{MaxIdleSeconds: 1200} },
	})
	Register(Control{
		ID:      Firewall,
		Collect: func(ctx context.Context, h host.Host) (any, error) { return nil, errors.New("nft: permission denied") },
		Evaluate: func(in EvalInput) Result {
			panic("evaluator bug")
		},
	})
	Register(Control{
		ID:      DiskEncryption,
		Collect: func(ctx context.Context, h host.Host) (any, error) { panic("collector bug") },
	})
}

func TestRegisterRefusesUnknownAndDuplicateIDs(t *testing.T) {
	for name, c := range map[string]Control{
		"an unknown control ID panics":  {ID: "coffee_machine"},
		"a duplicate control ID panics": {ID: ScreenLock},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			Register(c)
		})
	}
}

func TestCollectAndEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := Collect(context.Background(), nil, Device{Hostname: "laptop", OS: "linux"}, now)
	if len(r.Observations) != len(AllControlIDs) {
		t.Fatalf("got %d observations, want %d", len(r.Observations), len(AllControlIDs))
	}
	got := map[ControlID]Observation{}
	for _, o := range r.Observations {
		got[o.ID] = o
	}
	if string(got[ScreenLock].Facts) != `{"idle_seconds":600}` {
		t.Errorf("screen_lock facts = %s", got[ScreenLock].Facts)
	}
	if got[Firewall].UnknownReason != "nft: permission denied" {
		t.Errorf("firewall reason = %q", got[Firewall].UnknownReason)
	}
	if !strings.Contains(got[DiskEncryption].UnknownReason, "collector crashed") {
		t.Errorf("disk reason = %q", got[DiskEncryption].UnknownReason)
	}
	if !strings.Contains(got[Antivirus].UnknownReason, "no collector") {
		t.Errorf("antivirus reason = %q", got[Antivirus].UnknownReason)
	}

	vs := Evaluate(r, DefaultPolicy(), now)
	status := map[ControlID]Status{}
	for _, v := range vs {
		status[v.ID] = v.Status
		if v.Title == "" || v.PolicyRef == "" {
			t.Errorf("%s has no title or policy ref", v.ID)
		}
		if v.Evidence == nil {
			t.Errorf("%s has nil evidence (must encode as {})", v.ID)
		}
	}
	if status[ScreenLock] != StatusPass || status[Firewall] != StatusUnknown || status[Antivirus] != StatusUnknown {
		t.Errorf("statuses = %v", status)
	}
	if Compliant(vs) {
		t.Error("a report with unknown controls is compliant")
	}

	t.Run("a stricter policy fails the same facts", func(t *testing.T) {
		p, err := ParsePolicy([]byte("controls:\n  screen_lock:\n    max_idle_seconds: 300\n"))
		if err != nil {
			t.Fatal(err)
		}
		v := EvaluateControl(r, p, ScreenLock, now)
		if v.Status != StatusFail || v.Remediation != "shorten it" {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("an evaluator that panics gives unknown", func(t *testing.T) {
		r2 := &Report{Observations: []Observation{{ID: Firewall, Facts: json.RawMessage(`{}`)}}}
		v := EvaluateControl(r2, DefaultPolicy(), Firewall, now)
		if v.Status != StatusUnknown || !strings.Contains(v.Summary, "evaluator bug") {
			t.Errorf("got %+v", v)
		}
	})
}

func TestParsePolicy(t *testing.T) {
	t.Run("an empty file is the default policy", func(t *testing.T) {
		p, err := ParsePolicy(nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxReportAge != 15*time.Minute || p.Unknown != UnknownDeny || p.Control(Firewall).Enforcement != EnforceBlock {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("fields override the defaults and leave the rest alone", func(t *testing.T) {
		p, err := ParsePolicy([]byte(`max_report_age: 30m
unknown: allow
controls:
  firewall: {enforcement: warn_then_block, grace: 48h}
  screen_lock:
    allowed: [a, b]
`))
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxReportAge != 30*time.Minute || p.Unknown != UnknownAllow {
			t.Errorf("got %+v", p)
		}
		fw := p.Control(Firewall)
		if fw.Enforcement != EnforceWarnThenBlock || fw.Grace != 48*time.Hour {
			t.Errorf("firewall = %+v", fw)
		}
		want := &testThresholds{MaxIdleSeconds: 1200, Allowed: []string{"a", "b"}}
		if diff := cmp.Diff(want, p.Thresholds(ScreenLock)); diff != "" {
			t.Errorf("screen_lock thresholds (-want +got):\n%s", diff)
		}
		if p.Control(DiskEncryption).Enforcement != EnforceBlock {
			t.Error("a control left out lost its default")
		}
	})
	bad := []struct {
		name, yaml, want string
	}{
		{"an unknown top-level field names its line", "max_report_age: 5m\nmax_age: 5m\n", "policy line 2: max_age: unknown field"},
		{"an unknown control is refused", "controls:\n  coffee: {enforcement: block}\n", "line 2: controls.coffee: unknown control"},
		{"a bad enforcement names the field", "controls:\n  firewall:\n    enforcement: maybe\n", `line 3: controls.firewall.enforcement: "maybe" is not`},
		{"a bad duration names the field", "max_report_age: soon\n", `line 1: max_report_age: "soon" is not a duration`},
		{"a negative report age is refused", "max_report_age: -5m\n", "must be between"},
		{"a bad unknown mode is refused", "unknown: sometimes\n", `unknown: "sometimes" is not deny or allow`},
		{"an unknown threshold is refused", "controls:\n  screen_lock:\n    max_idle: 5\n", "line 3: controls.screen_lock.max_idle: unknown field"},
		{"a threshold of the wrong type is refused", "controls:\n  screen_lock:\n    max_idle_seconds: lots\n", "line 3: controls.screen_lock.max_idle_seconds"},
		{"a threshold that fails validation is refused", "controls:\n  screen_lock:\n    max_idle_seconds: 0\n", "max_idle_seconds must be positive"},
		{"a threshold on a control without thresholds is refused", "controls:\n  firewall:\n    strict: true\n", "unknown field (this control has no thresholds)"},
		{"a scalar file is refused", "hello\n", "must be a mapping"},
		{"broken YAML is refused", "controls: [\n", "policy: file:"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("an oversized file is refused", func(t *testing.T) {
		if _, err := ParsePolicy(make([]byte, MaxPolicySize+1)); err == nil {
			t.Fatal("accepted")
		}
	})
}
