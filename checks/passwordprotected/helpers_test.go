package passwordprotected

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// collectedAt is when the test machines were "checked": day 20454 since
// 1970, after the hand-written olduser account expired (day 20200).
var collectedAt = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// run collects from h and evaluates the facts as of collectedAt.
func run(t *testing.T, h host.Host) (checks.Result, *Facts, error) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		return checks.Result{}, nil, err
	}
	b, f := checktest.RoundTrip[Facts](t, facts)
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, CollectedAt: collectedAt, Now: collectedAt}), f, nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
