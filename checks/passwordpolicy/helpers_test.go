package passwordpolicy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// run collects from h and evaluates the facts with the default thresholds.
func run(t *testing.T, h host.Host) (checks.Result, *Facts, error) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Result{}, nil, err
	}
	b, f := checktest.RoundTrip[Facts](t, facts)
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), CollectedAt: now, Now: now}), f, nil
}

// values flattens the five settings for comparison.
func values(f *Facts) map[string]any {
	out := map[string]any{}
	for name, s := range map[string]Setting{
		"min_length": f.MinLength, "min_classes": f.MinClasses, "max_age_days": f.MaxAgeDays,
		"history": f.History, "lockout_threshold": f.LockoutThreshold,
	} {
		if s.Unknown != "" {
			out[name] = "unknown"
			continue
		}
		out[name] = s.Value
	}
	return out
}

// collectCase is one replayed machine and what collecting and evaluating
// its password policy must give.
type collectCase struct {
	name        string
	host        *host.Fake
	want        checks.Status
	wantValues  map[string]any
	wantSummary string
}

// runCollectCases checks each case's sub-rule values, status and summary,
// and, when fixWord is set, that a non-passing result's remediation names
// it (the tool the user must change on that OS).
func runCollectCases(t *testing.T, cases []collectCase, fixWord string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, f, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantValues, values(f)); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if fixWord != "" && res.Status != checks.StatusPass && !strings.Contains(res.Remediation, fixWord) {
				t.Errorf("remediation %q does not name %q", res.Remediation, fixWord)
			}
		})
	}
}
