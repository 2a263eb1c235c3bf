package passwordpolicy

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// testdata returns the exact bytes of testdata/<goos>/<name>.
func testdata(t *testing.T, goos, name string) []byte {
	t.Helper()
	return checktest.Testdata(t, goos, name)
}

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
