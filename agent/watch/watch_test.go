package watch

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/postern-dev/postern/checks/catalog"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// switchHost answers from one host, then from another after Switch.
type switchHost struct {
	host.Host
	mu   sync.Mutex
	next host.Host
}

func (s *switchHost) cur() host.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next != nil {
		return s.next
	}
	return s.Host
}
func (s *switchHost) Switch(h host.Host) { s.mu.Lock(); s.next = h; s.mu.Unlock() }
func (s *switchHost) ReadFile(p string) ([]byte, error) {
	return s.cur().ReadFile(p)
}
func (s *switchHost) Stat(p string) (host.FileInfo, error) { return s.cur().Stat(p) }
func (s *switchHost) Glob(p string) ([]string, error)      { return s.cur().Glob(p) }
func (s *switchHost) ReadDir(p string) ([]string, error)   { return s.cur().ReadDir(p) }
func (s *switchHost) Run(ctx context.Context, n string, a ...string) (host.Output, error) {
	return s.cur().Run(ctx, n, a...)
}

func snapshot(t *testing.T, name string) host.Host {
	t.Helper()
	r, err := host.OpenSnapshot(filepath.Join("..", "..", "checks", "testdata", "snapshots", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// collector gathers trigger reasons.
type collector struct {
	ch chan string
}

func newCollector() *collector        { return &collector{ch: make(chan string, 100)} }
func (c *collector) trigger(r string) { c.ch <- r }
func (c *collector) count() int       { return len(c.ch) }
func (c *collector) wait(t *testing.T) string {
	t.Helper()
	select {
	case r := <-c.ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no trigger")
		return ""
	}
}

func run(t *testing.T, fn func(context.Context)) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fn(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func TestSettings(t *testing.T) {
	t.Run("a changed firewall triggers one check and an unchanged one none", func(t *testing.T) {
		h := &switchHost{Host: snapshot(t, "linux-compliant")}
		c := newCollector()
		var polls atomic.Int32
		counting := countingHost{switchHost: h, n: &polls}
		run(t, func(ctx context.Context) {
			Settings{Host: counting, Every: 5 * time.Millisecond, CommandEvery: time.Nanosecond}.Run(ctx, c.trigger)
		})
		for polls.Load() < 20 {
			time.Sleep(time.Millisecond)
		}
		if c.count() != 0 {
			t.Fatalf("%d triggers while nothing changed", c.count())
		}
		h.Switch(snapshot(t, "linux-noncompliant"))
		if r := c.wait(t); r != ReasonSettings {
			t.Errorf("reason %q", r)
		}
	})
}

// countingHost counts commands run, to know that polls happened.
type countingHost struct {
	*switchHost
	n *atomic.Int32
}

func (c countingHost) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	c.n.Add(1)
	return c.switchHost.Run(ctx, name, args...)
}

func TestNetwork(t *testing.T) {
	// notified returns a Notify whose wake channel the test holds.
	notified := func(wakes chan chan<- struct{}) func(context.Context, chan<- struct{}) (func(), error) {
		return func(_ context.Context, wake chan<- struct{}) (func(), error) {
			wakes <- wake
			return func() {}, nil
		}
	}
	unsupported := func(context.Context, chan<- struct{}) (func(), error) { return nil, errors.ErrUnsupported }
	tests := []struct {
		name string
		// notify is the Network's Notify; poke makes the change visible.
		notify func(wakes chan chan<- struct{}) func(context.Context, chan<- struct{}) (func(), error)
		every  time.Duration
	}{
		{"a notified change triggers once, with no polling", notified, time.Hour},
		{"without notifications a polled change triggers once", func(chan chan<- struct{}) func(context.Context, chan<- struct{}) (func(), error) {
			return unsupported
		}, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls int
			fp := "wifi-1"
			c := newCollector()
			wakes := make(chan chan<- struct{}, 1)
			run(t, func(ctx context.Context) {
				Network{Every: tt.every, Notify: tt.notify(wakes), Fingerprint: func() (string, error) {
					mu.Lock()
					defer mu.Unlock()
					calls++
					return fp, nil
				}}.Run(ctx, c.trigger)
			})
			time.Sleep(20 * time.Millisecond)
			if c.count() != 0 {
				t.Fatal("triggered without a change")
			}
			mu.Lock()
			fp = "ethernet"
			mu.Unlock()
			select {
			case wake := <-wakes:
				mu.Lock()
				if calls != 1 {
					t.Errorf("the fingerprint was taken %d times before any notification, want once", calls)
				}
				mu.Unlock()
				wake <- struct{}{}
			default:
			}
			if r := c.wait(t); r != ReasonNetwork {
				t.Errorf("reason %q", r)
			}
			time.Sleep(20 * time.Millisecond)
			if c.count() != 0 {
				t.Errorf("%d extra triggers for one change", c.count())
			}
		})
	}
	t.Run("the live interface fingerprint is stable while nothing changes", func(t *testing.T) {
		a, err := Interfaces()
		if err != nil {
			t.Skip(err)
		}
		b, _ := Interfaces()
		if a != b {
			t.Error("fingerprint differs between two calls")
		}
	})
}

func TestResumed(t *testing.T) {
	base := clock.Now()
	tests := []struct {
		name string
		prev time.Time
		cur  time.Time
		want bool
	}{
		{"a tick on time is not a resume", base, base.Add(5 * time.Second), false},
		{"a slightly late tick is not a resume", base, base.Add(15 * time.Second), false},
		{"a tick an hour late is a resume", base, base.Add(time.Hour), true},
		{"a wall clock that jumped ahead of the monotonic one is a resume", base, wallJump(base.Add(5*time.Second), time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resumed(tt.prev, tt.cur, 5*time.Second); got != tt.want {
				t.Errorf("Resumed = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("the watcher triggers on the tick after a sleep", func(t *testing.T) {
		var mu sync.Mutex
		now := base
		ticks := make(chan time.Time)
		c := newCollector()
		run(t, func(ctx context.Context) {
			Resume{Every: 5 * time.Second, Ticks: ticks, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}.Run(ctx, c.trigger)
		})
		advance := func(d time.Duration) {
			mu.Lock()
			now = now.Add(d)
			mu.Unlock()
			ticks <- now
		}
		advance(5 * time.Second)
		advance(8 * time.Hour)
		if r := c.wait(t); r != ReasonResume {
			t.Errorf("reason %q", r)
		}
		advance(5 * time.Second)
		ticks <- now // a synchronous send: the previous tick was handled
		if c.count() != 0 {
			t.Errorf("%d triggers after the resume", c.count())
		}
	})
}

// wallJump returns t moved by d on the wall clock only: without a
// monotonic reading, Sub compares wall clocks, as after a suspend.
func wallJump(t time.Time, d time.Duration) time.Time {
	return t.Round(0).Add(d)
}
