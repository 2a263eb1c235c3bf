package loadgen

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRun drives a freshly built server with a few agents: every agent
// enrolls with its own token and connects, reports are acknowledged,
// flips reach the event stream, decisions are answered, and nothing
// fails. The sizes that measure something are run by make loadtest.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := filepath.Join(t.TempDir(), "postern-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/postern-dev/postern/server/cmd/postern-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the server: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{ServerBin: bin, Agents: 30, AgentsPerSource: 10, Interval: 300 * time.Millisecond,
		Duration: 4 * time.Second, Flip: 0.5, Gateways: 2, DecisionRate: 50, Followers: 1,
		Snapshots: filepath.Join("..", "..", "checks", "testdata", "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Enrolled != 30 || res.Connected != 30 {
		t.Errorf("enrolled %d, connected %d, want 30 each; failures %v", res.Enrolled, res.Connected, res.Examples)
	}
	if res.Reports == 0 || res.Decisions == 0 || res.Events == 0 {
		t.Errorf("reports %d, decisions %d, events %d: want some of each", res.Reports, res.Decisions, res.Events)
	}
	for k, n := range res.Failures {
		if k != "busy_retried" {
			t.Errorf("%d %s failures, e.g. %s", n, k, res.Examples[k])
		}
	}
	if res.DecisionErrors != 0 || len(res.ServerErrors) != 0 {
		t.Errorf("decision errors %d, server errors %v", res.DecisionErrors, res.ServerErrors)
	}
}
