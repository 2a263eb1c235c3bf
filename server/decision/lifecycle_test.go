package decision

import (
	"slices"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

func codesOf(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

// TestDecideLifecycle covers the inputs added for policy lifecycle:
// enforcement levels with grace from the first failure, exceptions,
// inactivity and attestation.
func TestDecideLifecycle(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	failing := func(id checks.ControlID) Input {
		return Input{DeviceID: "dev", Known: true, HasReport: true, PostureTime: t0,
			Verdicts: verdicts(map[checks.ControlID]checks.Status{id: checks.StatusFail})}
	}
	enforce := func(e checks.Enforcement, grace time.Duration) *checks.Policy {
		return policyWith(func(p *checks.Policy) {
			p.Controls[checks.OSPatched] = &checks.ControlPolicy{Enforcement: e, Grace: grace}
		})
	}
	with := func(in Input, f func(in *Input)) Input { f(&in); return in }
	tests := []struct {
		name         string
		in           Input
		policy       *checks.Policy
		wantAllow    bool
		wantReasons  []string
		wantWarnings []string
	}{
		{"report: a failure neither blocks nor warns", failing(checks.OSPatched), enforce(checks.EnforceReport, 0), true, nil, nil},
		{"notify: a failure warns without blocking", failing(checks.OSPatched), enforce(checks.EnforceNotify, 0), true, nil, []string{CodeControlFailed}},
		{"block: a failure blocks at once", failing(checks.OSPatched), enforce(checks.EnforceBlock, 0), false, []string{CodeControlFailed}, nil},
		{"warn_then_block: grace counts from the recorded first failure, not the report",
			with(failing(checks.OSPatched), func(in *Input) {
				in.PostureTime = now
				in.FirstFailed = map[checks.ControlID]time.Time{checks.OSPatched: now.Add(-25 * time.Hour)}
			}), enforce(checks.EnforceWarnThenBlock, 24*time.Hour), false, []string{CodeControlFailed}, nil},
		{"warn_then_block: without a recorded first failure the grace starts at the report",
			failing(checks.OSPatched), enforce(checks.EnforceWarnThenBlock, time.Hour), true, nil, []string{CodeControlFailed}},
		{"warn_then_block: a zero grace blocks at once",
			failing(checks.OSPatched), enforce(checks.EnforceWarnThenBlock, 0), false, []string{CodeControlFailed}, nil},
		{"an exception waives a blocking failure and says so",
			with(failing(checks.OSPatched), func(in *Input) {
				in.Waived = map[checks.ControlID]Waiver{checks.OSPatched: {ID: "ex_1", ExpiresAt: now.Add(time.Hour)}}
			}), nil, true, nil, []string{CodeExceptionApplied}},
		{"an expired exception no longer applies",
			with(failing(checks.OSPatched), func(in *Input) {
				in.Waived = map[checks.ControlID]Waiver{checks.OSPatched: {ID: "ex_1", ExpiresAt: now}}
			}), nil, false, []string{CodeControlFailed}, nil},
		{"an exception for another control does not help",
			with(failing(checks.OSPatched), func(in *Input) {
				in.Waived = map[checks.ControlID]Waiver{checks.Firewall: {ID: "ex_1", ExpiresAt: now.Add(time.Hour)}}
			}), nil, false, []string{CodeControlFailed}, nil},
		{"an exception does not override a revocation",
			with(failing(checks.OSPatched), func(in *Input) {
				in.Revoked = true
				in.Waived = map[checks.ControlID]Waiver{checks.OSPatched: {ID: "ex_1", ExpiresAt: now.Add(time.Hour)}}
			}), nil, false, []string{CodeDeviceRevoked}, nil},
		{"an inactive device is denied before anything else",
			with(failing(checks.OSPatched), func(in *Input) { in.Inactive = true }), nil, false, []string{CodeDeviceInactive}, nil},
		{"a required attestation that is missing denies",
			with(failing(checks.Firewall), func(in *Input) {
				in.Verdicts = verdicts(nil)
				in.Attestation = Attestation{Required: true, MaxAge: 365 * 24 * time.Hour}
			}), nil, false, []string{CodeAttestationMissing}, nil},
		{"an attestation older than its maximum age denies",
			with(failing(checks.Firewall), func(in *Input) {
				in.Verdicts = verdicts(nil)
				in.Attestation = Attestation{Required: true, At: now.Add(-366 * 24 * time.Hour), MaxAge: 365 * 24 * time.Hour}
			}), nil, false, []string{CodeAttestationMissing}, nil},
		{"a recent attestation allows",
			with(failing(checks.Firewall), func(in *Input) {
				in.Verdicts = verdicts(nil)
				in.Attestation = Attestation{Required: true, At: now.Add(-24 * time.Hour), MaxAge: 365 * 24 * time.Hour}
			}), nil, true, nil, nil},
		{"a missing attestation that is not required allows",
			with(failing(checks.Firewall), func(in *Input) { in.Verdicts = verdicts(nil) }), nil, true, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			if p == nil {
				p = checks.DefaultPolicy()
			}
			d := Decide(tt.in, p, now)
			if d.Allow != tt.wantAllow || !slices.Equal(codesOf(d.Reasons), tt.wantReasons) || !slices.Equal(codesOf(d.Warnings), tt.wantWarnings) {
				t.Errorf("allow %v reasons %v warnings %v; want %v %v %v", d.Allow, codesOf(d.Reasons), codesOf(d.Warnings),
					tt.wantAllow, tt.wantReasons, tt.wantWarnings)
			}
		})
	}
	t.Run("an allow under an exception is valid only until the exception expires", func(t *testing.T) {
		in := failing(checks.OSPatched)
		in.Waived = map[checks.ControlID]Waiver{checks.OSPatched: {ID: "ex_1", ExpiresAt: now.Add(7 * time.Second)}}
		if d := Decide(in, checks.DefaultPolicy(), now); !d.ValidUntil.Equal(now.Add(7 * time.Second)) {
			t.Errorf("valid_until = %v, want %v", d.ValidUntil, now.Add(7*time.Second))
		}
	})
}

func TestInactive(t *testing.T) {
	if Inactive(t0, t0.Add(InactiveAfter)) {
		t.Error("inactive at exactly 90 days")
	}
	if !Inactive(t0, t0.Add(InactiveAfter+time.Second)) {
		t.Error("active after 90 days")
	}
	if Inactive(time.Time{}, t0) {
		t.Error("a device never seen counts as inactive")
	}
}
