package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// hangingHost answers files, listings, registry and WMI from a snapshot,
// but every command hangs until its context ends, as a wedged package
// manager or D-Bus service would.
type hangingHost struct {
	host.Host
	stop <-chan struct{}
}

func (h hangingHost) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	select {
	case <-ctx.Done():
		return host.Output{}, host.Wrap(host.ErrTimeout, fmt.Errorf("run %s: %w", name, ctx.Err()))
	case <-h.stop:
		return host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run "+name+": test over"))
	}
}

// commandUsers returns the controls whose collectors run a command on h.
func commandUsers(t *testing.T, h host.Host) map[checks.ControlID]bool {
	users := map[checks.ControlID]bool{}
	for _, c := range checks.Registered() {
		rec := &argvRecorder{Host: h}
		if _, err := c.Collect(context.Background(), rec); err != nil {
			t.Logf("%s: %v", c.ID, err)
		}
		users[c.ID] = len(rec.runs) > 0
	}
	return users
}

func TestCollectHonoursTheCycleDeadline(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run("a hung command on "+name+" makes its control unknown when the cycle's deadline passes", func(t *testing.T) {
			replay := openFixture(t, name)
			users := commandUsers(t, replay)
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			h := hangingHost{Host: replay, stop: stop}

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			done := make(chan *checks.Report, 1)
			go func() { done <- checks.Collect(ctx, h, checks.Device{OS: h.GOOS()}, fixtureTime) }()
			var r *checks.Report
			select {
			case r = <-done:
			case <-time.After(time.Minute):
				t.Fatal("checks.Collect did not return after its context ended")
			}
			if ctx.Err() == nil {
				t.Fatal("the cycle returned before its deadline although every command hangs")
			}
			timedOut := 0
			for _, v := range checks.Evaluate(r, checks.DefaultPolicy(), fixtureTime) {
				t.Logf("%s: %s: %s", v.ID, v.Status, v.Summary)
				if !users[v.ID] || v.Status != checks.StatusUnknown {
					// A collector may still decide from files, the
					// registry or WMI (e.g. a Windows build at its patch
					// baseline): that is not a wrong answer.
					continue
				}
				timedOut++
				if !namesTimeout(t, v) {
					t.Errorf("%s is unknown without saying a command timed out: %s", v.ID, v.Summary)
				}
			}
			if timedOut == 0 {
				t.Error("no control is unknown although every command hung")
			}
		})
	}
}

// namesTimeout reports whether the verdict's summary or evidence says a
// command ran out of time.
func namesTimeout(t *testing.T, v checks.Verdict) bool {
	ev, err := json.Marshal(v.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	text := v.Summary + " " + string(ev)
	for _, s := range []string{"timed out", "deadline exceeded", "still running"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
