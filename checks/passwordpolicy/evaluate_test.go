package passwordpolicy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func TestEvaluateEdges(t *testing.T) {
	good := Facts{MinLength: known(8, "x"), MinClasses: known(3, "x"), MaxAgeDays: known(90, "x"), History: known(6, "x"), LockoutThreshold: known(5, "x")}
	tests := []struct {
		name   string
		mutate func(*Facts)
		th     any
		want   checks.Status
		inSum  string
	}{
		{"every sub-rule met passes", func(*Facts) {}, DefaultThresholds(), checks.StatusPass, "length 8"},
		{"an undetermined sub-rule with no failure is unknown", func(f *Facts) { f.MinClasses = unknown("net accounts does not show complexity") }, DefaultThresholds(), checks.StatusUnknown, "min_classes (net accounts does not show complexity)"},
		{"a failure wins over an undetermined sub-rule", func(f *Facts) { f.MinClasses = unknown("?"); f.History = known(2, "x") }, DefaultThresholds(), checks.StatusFail, "history 2 (needs >= 6)"},
		{"a lockout threshold of zero never locks and fails", func(f *Facts) { f.LockoutThreshold = known(0, "x") }, DefaultThresholds(), checks.StatusFail, "lockout_threshold never locks"},
		{"a stricter policy fails the same facts", func(*Facts) {}, &Thresholds{MinLength: 12, MinClasses: 3, MaxAgeDays: 90, History: 6, LockoutThreshold: 5}, checks.StatusFail, "min_length 8 (needs >= 12)"},
		{"missing thresholds fall back to the defaults", func(*Facts) {}, nil, checks.StatusPass, "length 8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := good
			tc.mutate(&f)
			b, _ := json.Marshal(f)
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Thresholds: tc.th})
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.inSum) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.inSum)
			}
			if _, ok := res.Evidence["min_length"]; !ok {
				t.Error("the evidence does not report each sub-rule")
			}
		})
	}
	t.Run("undecodable facts are unknown", func(t *testing.T) {
		if res := Evaluate(checks.EvalInput{Facts: json.RawMessage(`{"min_length":"long"}`)}); res.Status != checks.StatusUnknown {
			t.Errorf("status = %s", res.Status)
		}
	})
	t.Run("an OS without a collector says so", func(t *testing.T) {
		if _, err := Collect(context.Background(), host.NewFake("plan9", "amd64")); err == nil {
			t.Error("no error")
		}
	})
}
