package ospatched

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host/live"
)

// TestLiveHostGivesAStatusWithAReason runs the collector on this machine
// for real. It asserts only that a status and a summary come back: the
// machine's actual state is whatever it is.
func TestLiveHostGivesAStatusWithAReason(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	facts, err := Collect(ctx, live.New())
	var res checks.Result
	if err != nil {
		res = checks.Unknown(err.Error())
	} else {
		b, merr := json.Marshal(facts)
		if merr != nil {
			t.Fatal(merr)
		}
		res = Evaluate(checks.EvalInput{OS: live.New().GOOS(), Facts: b, Thresholds: DefaultThresholds(), Now: time.Now()})
	}
	t.Logf("%s after %v: %s (%v)", res.Status, time.Since(start).Round(time.Millisecond), res.Summary, res.Evidence)
	if res.Status == "" || res.Summary == "" {
		t.Errorf("result %+v has no status or no summary", res)
	}
}
