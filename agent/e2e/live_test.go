package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/watch"
)

// liveLimit is the promise: a change that matters reaches the gateway
// within 5 s.
const liveLimit = 5 * time.Second

func TestPostureChangeReachesTheGatewayWithinFiveSeconds(t *testing.T) {
	srv := startServer(t)
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	state := t.TempDir()
	h := &switchHost{cur: snapshot(t, "linux-compliant")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: srv.QUICAddr, Token: token, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	// The scheduled interval is an hour: only the watchers can report
	// the change in time. Settings are polled every second here (15 s in
	// the service) so that the test measures the path, not the poll.
	r, err := runner.New(runner.Config{StateDir: state, Host: h, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var trig sync.Map
	trigger := func(reason string) { trig.Store(reason, true); r.Trigger(reason) }
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { watch.Settings{Host: h, Every: time.Second}.Run(ctx, trigger) })
	wg.Go(func() { _ = r.Run(ctx) })

	eventually(t, 20*time.Second, func() bool { return allowed(t, srv, key, id.DeviceID) })

	t.Run("turning the firewall off is denied within 5 s", func(t *testing.T) {
		h.Switch(snapshot(t, "linux-noncompliant"))
		took := eventually(t, liveLimit, func() bool { return !allowed(t, srv, key, id.DeviceID) })
		t.Logf("denied %v after the change", took.Round(time.Millisecond))
		// Another cycle (a command pushed at connect) may report the change
		// first; the settings watcher must still see it, and must have seen
		// it before the next switch, or it would miss the switch back.
		eventually(t, liveLimit, func() bool { _, ok := trig.Load(watch.ReasonSettings); return ok })
	})
	t.Run("turning it back on is allowed within 5 s", func(t *testing.T) {
		trig.Delete(watch.ReasonSettings)
		h.Switch(snapshot(t, "linux-compliant"))
		took := eventually(t, liveLimit, func() bool { return allowed(t, srv, key, id.DeviceID) })
		t.Logf("allowed %v after the change", took.Round(time.Millisecond))
	})
	t.Run("a server recheck runs a cycle at once", func(t *testing.T) {
		h.Switch(snapshot(t, "linux-noncompliant"))
		// Only the recheck path: a network trigger stands in for the
		// server's command, which takes the same channel.
		r.Trigger(watch.ReasonNetwork)
		eventually(t, liveLimit, func() bool { return !allowed(t, srv, key, id.DeviceID) })
	})
}
