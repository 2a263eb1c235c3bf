//go:build linux

package screenlock

import (
	"testing"

	"github.com/postern-dev/postern/checks/host/live"
)

// TestCollectLiveLinux runs the real collector on this machine: whatever
// the machine is, the control must come back with a status and a reason.
func TestCollectLiveLinux(t *testing.T) {
	res, _ := collectAndEvaluate(t, live.New())
	if res.Status == "" || res.Summary == "" {
		t.Fatalf("got status %q summary %q", res.Status, res.Summary)
	}
	t.Logf("live: %s: %s", res.Status, res.Summary)
}
