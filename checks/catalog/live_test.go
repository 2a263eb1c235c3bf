package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host/live"
	"github.com/postern-dev/postern/internal/clock"
)

// liveCycleTimeout bounds one full check on the machine running the tests,
// as the agent bounds its cycle.
const liveCycleTimeout = time.Minute

// fullCheck is one whole check cycle on the live machine: device identity,
// every collector, and the default policy's verdicts.
func fullCheck(ctx context.Context) []checks.Verdict {
	h := live.New()
	now := clock.Now()
	r := checks.Collect(ctx, h, device.Collect(ctx, h), now)
	return checks.Evaluate(r, checks.DefaultPolicy(), now)
}

func TestLiveMachineGetsAStatusForEveryControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), liveCycleTimeout)
	defer cancel()
	vs := fullCheck(ctx)
	got := map[checks.ControlID]checks.Verdict{}
	for _, v := range vs {
		got[v.ID] = v
		t.Logf("%s: %s: %s", v.ID, v.Status, v.Summary)
	}
	for _, id := range checks.AllControlIDs {
		t.Run(string(id)+" has a status and, unless it passes, a reason", func(t *testing.T) {
			v, ok := got[id]
			if !ok {
				t.Fatal("no verdict")
			}
			switch v.Status {
			case checks.StatusPass:
			case checks.StatusFail, checks.StatusUnknown, checks.StatusNotApplicable:
				if v.Summary == "" {
					t.Errorf("%s without a summary", v.Status)
				}
				if v.Status == checks.StatusFail && v.Remediation == "" {
					t.Error("fails without a remediation")
				}
			default:
				t.Errorf("status %q", v.Status)
			}
		})
	}
}

// BenchmarkFullLinuxCheck measures one full live check cycle on this
// machine (the goal is at most 300 ms). Slow pending-update searches are
// cached by os_patched, so after the first cycle this is the steady state
// of an agent's scheduled checks.
func BenchmarkFullLinuxCheck(b *testing.B) {
	ctx := context.Background()
	// The first cycle starts the slow searches (apt's simulation can take
	// seconds) that later cycles answer from cache; it is not timed.
	wctx, cancel := context.WithTimeout(ctx, liveCycleTimeout)
	fullCheck(wctx)
	cancel()
	for b.Loop() {
		cctx, cancel := context.WithTimeout(ctx, liveCycleTimeout)
		fullCheck(cctx)
		cancel()
	}
}
