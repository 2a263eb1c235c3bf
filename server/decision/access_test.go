package decision

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func TestAccessOf(t *testing.T) {
	soon, later := t0.Add(time.Hour), t0.Add(48*time.Hour)
	tests := []struct {
		name  string
		d     Decision
		want  Standing
		label string
	}{
		{"a deny is blocked", Decision{Reasons: []Reason{{Code: CodeControlFailed}}}, Standing{Access: AccessBlocked}, "blocked"},
		{"an allow without warnings is allowed", Decision{Allow: true}, Standing{Access: AccessAllowed}, "allowed"},
		{"an allow whose only warnings are exceptions is allowed by exception",
			Decision{Allow: true, Warnings: []Reason{{Code: CodeExceptionApplied, Until: later}}}, Standing{Access: AccessException}, "allowed by exception"},
		{"a grace period and an exception warn with the grace's deadline",
			Decision{Allow: true, Warnings: []Reason{{Code: CodeExceptionApplied, Until: soon}, {Code: CodeControlFailed, Until: later}}},
			Standing{Access: AccessWarned, Deadline: later}, "warned until " + later.UTC().Format("2006-01-02 15:04 UTC")},
		{"the earliest deadline of several warnings is kept",
			Decision{Allow: true, Warnings: []Reason{{Code: CodeControlFailed, Until: later}, {Code: CodeAttestationDue, Until: soon}}},
			Standing{Access: AccessWarned, Deadline: soon}, "warned until " + soon.UTC().Format("2006-01-02 15:04 UTC")},
		{"a notify-only warning has no deadline", Decision{Allow: true, Warnings: []Reason{{Code: CodeControlUnknown}}},
			Standing{Access: AccessWarned}, "warned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AccessOf(tt.d)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Label() != tt.label {
				t.Errorf("label %q, want %q", got.Label(), tt.label)
			}
		})
	}
}

func TestWarningsCarryTheirDeadline(t *testing.T) {
	p := policyWith(func(p *checks.Policy) {
		p.Controls[checks.Firewall].Enforcement = checks.EnforceWarnThenBlock
		p.Controls[checks.Firewall].Grace = 72 * time.Hour
	})
	first := t0.Add(-time.Hour)
	in := Input{DeviceID: "d", Known: true, HasReport: true, PostureTime: t0,
		Verdicts:    verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail}),
		FirstFailed: map[checks.ControlID]time.Time{checks.Firewall: first}}
	d := Decide(in, p, t0)
	if !d.Allow || len(d.Warnings) != 1 || !d.Warnings[0].Until.Equal(first.Add(72*time.Hour)) {
		t.Fatalf("decision %+v, want allowed with a warning until the grace ends", d)
	}
	in.Waived = map[checks.ControlID]Waiver{checks.Firewall: {ID: "ex_1", ExpiresAt: t0.Add(24 * time.Hour)}}
	d = Decide(in, p, t0)
	if len(d.Warnings) != 1 || d.Warnings[0].Code != CodeExceptionApplied || !d.Warnings[0].Until.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("waived decision %+v, want an exception warning until it expires", d)
	}
}
