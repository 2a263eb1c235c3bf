package screenlock

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// collectAndEvaluate runs the collector on h and evaluates its facts
// against the default thresholds, failing the test on a collector error.
func collectAndEvaluate(t *testing.T, h host.Host) (checks.Result, *Facts) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	b, f := checktest.RoundTrip[Facts](t, facts)
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), Now: time.Unix(0, 0)})
	return res, f
}
