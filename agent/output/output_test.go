package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func sample() CheckResult {
	r := &checks.Report{
		Device:      checks.Device{Hostname: "laptop-7", OS: "linux", OSName: "Ubuntu", OSVersion: "24.04", Arch: "amd64"},
		CollectedAt: t0.Add(123 * time.Millisecond),
	}
	vs := []checks.Verdict{
		{ID: checks.PasswordProtected, Status: checks.StatusPass, Title: checks.PasswordProtected.Title(), Summary: "every interactive account has a password", Evidence: map[string]any{"accounts": 1}, PolicyRef: "C.7.a.i"},
		{ID: checks.Firewall, Status: checks.StatusFail, Title: checks.Firewall.Title(), Summary: "no inbound filtering in the live ruleset", Evidence: map[string]any{"source": "nft"}, Remediation: "Run \"sudo ufw enable\", then check with \"sudo ufw status\".\nOr enable firewalld.", PolicyRef: "C.7.a.ii"},
		{ID: checks.Antivirus, Status: checks.StatusUnknown, Title: checks.Antivirus.Title(), Summary: "could not be determined: clamd not installed", Evidence: map[string]any{}, Remediation: "Install ClamAV <clamav-daemon> & enable its service.", PolicyRef: "C.7.a.iv"},
		{ID: checks.WiFiEncryption, Status: checks.StatusNotApplicable, Title: checks.WiFiEncryption.Title(), Summary: "no Wi-Fi in use", Evidence: map[string]any{}, PolicyRef: "C.7.a.ix"},
	}
	return NewCheckResult(r, vs)
}

func TestCheckResult(t *testing.T) {
	c := sample()
	t.Run("the JSON matches its golden file", func(t *testing.T) {
		var b bytes.Buffer
		if err := c.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, "check.json", b.Bytes())
	})
	t.Run("the JSON has exactly the contract's fields", func(t *testing.T) {
		var b bytes.Buffer
		_ = c.WriteJSON(&b)
		var m map[string]any
		if err := json.Unmarshal(b.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		if diff := cmp.Diff([]string{"collected_at", "compliant", "controls", "device"}, sortStrings(keys)); diff != "" {
			t.Errorf("top-level keys (-want +got):\n%s", diff)
		}
		if _, err := time.Parse(time.RFC3339, m["collected_at"].(string)); err != nil {
			t.Error(err)
		}
		ctl := m["controls"].([]any)[0].(map[string]any)
		var ck []string
		for k := range ctl {
			ck = append(ck, k)
		}
		if diff := cmp.Diff([]string{"evidence", "id", "policy_ref", "remediation", "status", "summary", "title"}, sortStrings(ck)); diff != "" {
			t.Errorf("control keys (-want +got):\n%s", diff)
		}
	})
	t.Run("the text matches its golden file", func(t *testing.T) {
		var b bytes.Buffer
		if err := c.WriteText(&b, false); err != nil {
			t.Fatal(err)
		}
		golden(t, "check.txt", b.Bytes())
	})
	t.Run("colour is added only when asked", func(t *testing.T) {
		var plainOut, colourOut bytes.Buffer
		_ = c.WriteText(&plainOut, false)
		_ = c.WriteText(&colourOut, true)
		if strings.Contains(plainOut.String(), "\x1b[") || !strings.Contains(colourOut.String(), "\x1b[31mFAIL") {
			t.Error("colour codes where not wanted, or missing where wanted")
		}
	})
	t.Run("no controls encode as an empty array", func(t *testing.T) {
		var b bytes.Buffer
		_ = NewCheckResult(&checks.Report{}, nil).WriteJSON(&b)
		if !strings.Contains(b.String(), `"controls": []`) {
			t.Errorf("got %s", b.String())
		}
	})
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestStatus(t *testing.T) {
	id := &state.Identity{DeviceID: "0b6c3c1e-0000-4000-8000-000000000001", Server: "posture.example:4433", EnrolledAt: t0.Add(-48 * time.Hour), CertSHA256: strings.Repeat("ab", 32)}
	fw := state.Finding{ID: checks.Firewall, Title: "Host firewall on", Status: checks.StatusFail, Summary: "no inbound filtering", Remediation: "Run \"sudo ufw enable\".", Enforcement: checks.EnforceBlock}
	av := state.Finding{ID: checks.Antivirus, Title: "Anti-virus", Status: checks.StatusUnknown, Summary: "could not be determined", Enforcement: checks.EnforceBlock}
	notify := state.Finding{ID: checks.OSPatched, Title: "Patched", Status: checks.StatusFail, Summary: "2 pending", Enforcement: checks.EnforceNotify}
	report := func(f ...state.Finding) *state.ReportInfo {
		return &state.ReportInfo{Sequence: 7, Time: t0.Add(-2 * time.Minute), Compliant: len(f) == 0, Findings: f}
	}
	acked := &state.AckInfo{Sequence: 7, Time: t0.Add(-time.Minute)}
	allowUnknown := checks.DefaultPolicy()
	allowUnknown.Unknown = checks.UnknownAllow
	tests := []struct {
		name        string
		id          *state.Identity
		st          state.State
		policy      *checks.Policy
		now         time.Time
		wantAllowed bool
		wantFix     checks.ControlID
		wantReason  string
	}{
		{"an unenrolled device is blocked", nil, state.State{}, nil, t0, false, "", "not enrolled"},
		{"a device that never checked is blocked", id, state.State{}, nil, t0, false, "", "no check"},
		{"a blocking failure is fixed first, before an unknown", id, state.State{LastReport: report(av, fw), LastAck: acked}, nil, t0, false, checks.Firewall, "2 control(s) block access: antivirus, firewall"},
		{"an unknown does not block when the policy allows unknowns", id, state.State{LastReport: report(av), LastAck: acked}, allowUnknown, t0, true, "", "server has it"},
		{"a failure under notify enforcement does not block", id, state.State{LastReport: report(notify), LastAck: acked}, nil, t0, true, "", "server has it"},
		{"a stale check blocks", id, state.State{LastReport: report(), LastAck: acked}, nil, t0.Add(time.Hour), false, "", "is 1h2m0s old"},
		{"an unacknowledged pass is allowed with a warning", id, state.State{LastReport: report()}, nil, t0, true, "", "not acknowledged"},
		{"the server's allow by exception wins over the local estimate", id, state.State{LastReport: report(fw), LastAck: &state.AckInfo{Sequence: 7, Time: t0.Add(-time.Minute),
			Decision: &state.Decision{Allow: true, Access: "allowed_by_exception", EvaluatedAt: t0.Add(-time.Minute),
				Warnings: []state.DecisionReason{{Code: "exception_applied", Control: "firewall", Message: "waived", Until: t0.Add(48 * time.Hour)}}}}},
			nil, t0, true, "", "allowed by exception"},
		{"the server's deny names its reasons and the control to fix", id, state.State{LastReport: report(fw), LastAck: &state.AckInfo{Sequence: 7, Time: t0.Add(-time.Minute),
			Decision: &state.Decision{Access: "blocked", EvaluatedAt: t0.Add(-time.Minute),
				Reasons: []state.DecisionReason{{Code: "control_failed", Control: "firewall", Message: "no inbound filtering"}}}}},
			nil, t0, false, checks.Firewall, "firewall: no inbound filtering"},
		{"the server's warning says until when", id, state.State{LastReport: report(fw), LastAck: &state.AckInfo{Sequence: 7, Time: t0.Add(-time.Minute),
			Decision: &state.Decision{Allow: true, Access: "warned", Deadline: t0.Add(72 * time.Hour), EvaluatedAt: t0.Add(-time.Minute),
				Warnings: []state.DecisionReason{{Code: "control_failed", Control: "firewall", Message: "no inbound filtering", Until: t0.Add(72 * time.Hour)}}}}},
			nil, t0, true, checks.Firewall, "allowed until 2026-11-26T09:00:00Z, with warnings"},
		{"a device held for approval says it is waiting for approval, with nothing to fix", id, state.State{LastReport: report(fw), LastAck: &state.AckInfo{Sequence: 7, Time: t0.Add(-time.Minute),
			Decision: &state.Decision{Access: "blocked", EvaluatedAt: t0.Add(-time.Minute),
				Reasons: []state.DecisionReason{{Code: "enrollment_pending", Message: "this device's enrollment is waiting for an administrator's approval"}}}}},
			nil, t0, false, "", "waiting for an administrator's approval"},
		{"a revoked device says so in plain words", id, state.State{LastReport: report(), LastAck: acked,
			Refused: &state.Refusal{Reason: state.RefusedRevoked, Message: "The security team revoked this device's enrollment.", CertSHA256: id.CertSHA256}},
			nil, t0, false, "", "revoked this device's enrollment"},
		{"a refusal of an earlier enrollment no longer applies", id, state.State{LastReport: report(), LastAck: acked,
			Refused: &state.Refusal{Reason: state.RefusedRevoked, Message: "The security team revoked this device's enrollment.", CertSHA256: "old"}},
			nil, t0, true, "", "server has it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			if p == nil {
				p = checks.DefaultPolicy()
			}
			s := NewStatus(tt.id, tt.st, 0, p, tt.now)
			if s.Access.Allowed != tt.wantAllowed || !strings.Contains(s.Access.Reason, tt.wantReason) {
				t.Errorf("access = %+v", s.Access)
			}
			if s.Blocked() == tt.wantAllowed {
				t.Errorf("Blocked() = %v, want %v", s.Blocked(), !tt.wantAllowed)
			}
			var fix checks.ControlID
			if s.Access.FixFirst != nil {
				fix = s.Access.FixFirst.ID
			}
			if fix != tt.wantFix {
				t.Errorf("fix first = %q, want %q", fix, tt.wantFix)
			}
			if strings.Contains(tt.name, "held for approval") {
				var b bytes.Buffer
				_ = s.WriteText(&b, false)
				if !strings.Contains(b.String(), "IBHIS access: waiting for approval") {
					t.Errorf("status text:\n%s", b.String())
				}
			}
		})
	}
	s := NewStatus(id, state.State{LastReport: report(av, fw), LastAck: &state.AckInfo{Sequence: 6, Time: t0.Add(-6 * time.Minute)}, LastError: &state.ErrorInfo{Time: t0, Message: "dial posture.example:4433: timeout"}}, 2, checks.DefaultPolicy(), t0)
	t.Run("the status text matches its golden file", func(t *testing.T) {
		var b bytes.Buffer
		_ = s.WriteText(&b, false)
		golden(t, "status.txt", b.Bytes())
	})
	t.Run("the status JSON matches its golden file", func(t *testing.T) {
		var b bytes.Buffer
		_ = s.WriteJSON(&b)
		golden(t, "status.json", b.Bytes())
	})
}
