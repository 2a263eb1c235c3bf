package passwordprotected

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host/live"
)

// TestLiveCollectorGivesAStatusWithAReason runs the collector on the
// machine running the test: whatever the machine's state, the control must
// come back with a status and a summary that says why.
func TestLiveCollectorGivesAStatusWithAReason(t *testing.T) {
	now := time.Now()
	var res checks.Result
	facts, err := Collect(context.Background(), live.New())
	if err != nil {
		res = checks.Unknown(err.Error())
	} else {
		b, merr := json.Marshal(facts)
		if merr != nil {
			t.Fatal(merr)
		}
		res = Evaluate(checks.EvalInput{OS: runtime.GOOS, Facts: b, Thresholds: thresholdsForTest(), CollectedAt: now, Now: now})
	}
	if res.Status == "" || res.Summary == "" {
		t.Fatalf("got %+v", res)
	}
	t.Logf("%s: %s", res.Status, res.Summary)
}
