package diskenc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host/live"
)

// TestLiveCollectorGivesAStatus runs the collector on the machine running
// the test: whatever is installed, the control must come back with a
// status and a reason. It never skips.
func TestLiveCollectorGivesAStatus(t *testing.T) {
	h := live.New()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	facts, err := Collect(ctx, h)
	var res checks.Result
	if err != nil {
		res = checks.Unknown(err.Error())
	} else {
		b, merr := json.Marshal(facts)
		if merr != nil {
			t.Fatal(merr)
		}
		res = Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Now: time.Now()})
	}
	t.Logf("%s: %s", res.Status, res.Summary)
	if res.Status == "" || res.Summary == "" {
		t.Errorf("result %+v has no status or no summary", res)
	}
}
