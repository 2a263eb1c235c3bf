package screenlock

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
)

func TestEvaluate(t *testing.T) {
	yes := true
	no := false
	tests := []struct {
		name        string
		facts       Facts
		thresholds  *Thresholds
		wantStatus  checks.Status
		wantSummary string
	}{
		{"a stricter policy limit fails a 15 minute lock",
			Facts{Platform: "gnome", Routes: []Route{{Name: "GNOME idle lock", IdleSeconds: 900, PasswordRequired: true}}},
			&Thresholds{MaxIdleSeconds: 600, RequirePassword: true}, checks.StatusFail, "over the 10 min limit"},
		{"a lock without a password passes only when the policy does not require one",
			Facts{Platform: "windows", Routes: []Route{{Name: "screen saver", IdleSeconds: 300}}},
			&Thresholds{MaxIdleSeconds: 1200, RequirePassword: false}, checks.StatusPass, "5 min idle"},
		{"the grace period counts toward the limit",
			Facts{Platform: "macos", Routes: []Route{{Name: "screen saver", IdleSeconds: 1200, GraceSeconds: 5, PasswordRequired: true}}},
			nil, checks.StatusFail, "20 min 5 s idle"},
		{"the slower power source decides",
			Facts{Platform: "macos", HasBattery: &yes, Routes: []Route{
				{Name: "display sleep", Power: PowerAC, IdleSeconds: 3600, PasswordRequired: true},
				{Name: "display sleep", Power: PowerBattery, IdleSeconds: 120, PasswordRequired: true}}},
			nil, checks.StatusFail, "60 min idle on mains"},
		{"battery settings do not apply without a battery",
			Facts{Platform: "windows", HasBattery: &no, Routes: []Route{
				{Name: "sleep", Power: PowerAC, IdleSeconds: 600, PasswordRequired: true},
				{Name: "sleep", Power: PowerBattery}}},
			nil, checks.StatusPass, "10 min idle"},
		{"an unreadable route that might be faster is unknown, not failed",
			Facts{Platform: "windows", Routes: []Route{
				{Name: "sleep", IdleSeconds: 3600, PasswordRequired: true},
				{Name: "screen saver", Unknown: "cannot read HKU: access denied"}}},
			nil, checks.StatusUnknown, "access denied"},
		{"a known fast route passes even when another is unreadable",
			Facts{Platform: "windows", Routes: []Route{
				{Name: "machine inactivity limit", IdleSeconds: 600, PasswordRequired: true},
				{Name: "screen saver", Unknown: "cannot read HKU: access denied"}}},
			nil, checks.StatusPass, "10 min idle"},
		{"no graphical session is not applicable",
			Facts{Platform: "linux", NotApplicable: "no graphical session"}, nil, checks.StatusNotApplicable, "no graphical session"},
		{"no routes at all fails as never locking",
			Facts{Platform: "kde"}, nil, checks.StatusFail, "never locks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.facts)
			if err != nil {
				t.Fatal(err)
			}
			var th any = tc.thresholds
			if tc.thresholds == nil {
				th = nil
			}
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Thresholds: th})
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.wantStatus, tc.wantSummary)
			}
			if (res.Status == checks.StatusFail) != (res.Remediation != "") {
				t.Errorf("remediation %q on status %s", res.Remediation, res.Status)
			}
		})
	}
}

func TestEvaluateUndecodableFactsIsUnknown(t *testing.T) {
	res := Evaluate(checks.EvalInput{Facts: json.RawMessage(`{"routes":"soon"}`)})
	if res.Status != checks.StatusUnknown {
		t.Errorf("status = %s", res.Status)
	}
}
