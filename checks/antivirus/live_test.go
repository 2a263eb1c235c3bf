package antivirus

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host/live"
)

// TestLiveLinuxCollectorGivesAStatus runs the collector on the machine
// running the test. Whatever is installed, the control must come back
// with a status and a reason.
func TestLiveLinuxCollectorGivesAStatus(t *testing.T) {
	h := live.New()
	if h.GOOS() != "linux" {
		t.Logf("running the %s collector live", h.GOOS())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	facts, err := Collect(ctx, h)
	var res checks.Result
	if err != nil {
		res = checks.Unknown(err.Error())
	} else {
		b, merr := json.Marshal(facts)
		if merr != nil {
			t.Fatal(merr)
		}
		res = Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: DefaultThresholds(), CollectedAt: start, Now: time.Now()})
		t.Logf("facts: %s", b)
	}
	t.Logf("status %s: %s (remediation: %s)", res.Status, res.Summary, res.Remediation)
	if res.Status == "" || res.Summary == "" {
		t.Errorf("got status %q summary %q, want both set", res.Status, res.Summary)
	}
}
