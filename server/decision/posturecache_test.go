package decision

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/server/store"
)

// fakeClock is a settable clock for the posture cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cachedEngine is an engine over a server store in dir whose posture cache
// lives DefaultPostureTTL on a fake clock, and a second store on the same
// database standing for another process (the command line).
func cachedEngine(t *testing.T) (e *engineEnv, cli store.Store, clk *fakeClock) {
	t.Helper()
	dir := t.TempDir()
	raw, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	cli, err = store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	clk = &fakeClock{t: time.Unix(1000, 0)}
	pc := NewPostureCache(DefaultPostureTTL)
	pc.now = clk.Now
	e = &engineEnv{t: t, st: ForgetOnWrite(raw, pc), now: t0, pols: &staticPolicies{mustSet(t, "")}, postures: pc}
	e.pols.s.Version = 1
	e.eng = NewEngine(EngineConfig{Store: e.st, Policies: e.pols, Postures: pc, Now: func() time.Time { return e.now }})
	return e, cli, clk
}

func TestPostureCacheRevocation(t *testing.T) {
	tests := []struct {
		name string
		// byCLI revokes through the other process's store, otherwise
		// through the server's.
		byCLI bool
		// after is how long after the revocation the device is asked about.
		after     time.Duration
		wantAllow bool
	}{
		{"a revocation by the server is denied at once", false, 0, false},
		{"a revocation by the command line may be missed inside the cache lifetime", true, DefaultPostureTTL - time.Millisecond, true},
		{"a revocation by the command line is denied once the cache lifetime has passed", true, DefaultPostureTTL, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, cli, clk := cachedEngine(t)
			e.enroll("dev", "")
			e.report("dev")
			for _, l := range []Lookup{{DeviceID: "dev"}, {CertSHA256: "sha-dev"}} {
				if d := e.decideBy(l); !d.Allow {
					t.Fatalf("%+v: denied before the revocation: %+v", l, d.Reasons)
				}
			}
			st := e.st
			if tc.byCLI {
				st = cli
			}
			if err := st.Revoke(t.Context(), "dev", e.now); err != nil {
				t.Fatal(err)
			}
			clk.Add(tc.after)
			for _, l := range []Lookup{{DeviceID: "dev"}, {CertSHA256: "sha-dev"}} {
				if d := e.decideBy(l); d.Allow != tc.wantAllow {
					t.Errorf("%+v: allow = %v, want %v (%+v)", l, d.Allow, tc.wantAllow, d.Reasons)
				}
			}
		})
	}
}

func TestPostureCache(t *testing.T) {
	t.Run("a renewal drops the old certificate's entry", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		e.enroll("dev", "")
		e.report("dev")
		e.decideBy(Lookup{CertSHA256: "sha-dev"})
		if err := e.st.RenewCert(t.Context(), "dev", "sha-new", e.now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if d := e.decideBy(Lookup{CertSHA256: "sha-dev"}); d.Allow || d.Reasons[0].Code != CodeDeviceUnknown {
			t.Errorf("old certificate: %+v", d)
		}
		if d := e.decideBy(Lookup{CertSHA256: "sha-new"}); !d.Allow {
			t.Errorf("new certificate: %+v", d.Reasons)
		}
	})
	t.Run("a read that a write overtakes is not cached", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		e.enroll("dev", "")
		racing := &racingStore{Store: e.st, c: e.postures}
		if _, err := e.postures.Posture(t.Context(), racing, Lookup{DeviceID: "dev"}); err != nil {
			t.Fatal(err)
		}
		if n := e.postures.Len(); n != 0 {
			t.Errorf("%d entries cached from a read older than a write", n)
		}
	})
	t.Run("unknown devices are not cached", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		for _, l := range []Lookup{{DeviceID: "nobody"}, {CertSHA256: "sha-nobody"}} {
			if d := e.decideBy(l); d.Allow {
				t.Errorf("%+v allowed", l)
			}
		}
		if n := e.postures.Len(); n != 0 {
			t.Errorf("%d entries cached for unknown devices", n)
		}
	})
	t.Run("a hit returns the stored posture", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		e.enroll("dev", "")
		e.report("dev")
		want, err := e.st.Posture(t.Context(), "dev")
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := e.postures.Posture(t.Context(), e.st, Lookup{DeviceID: "dev"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("posture (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("a sweep fills the cache for the whole fleet, by ID and by certificate", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		for _, id := range []string{"dev-1", "dev-2"} {
			e.enroll(id, "")
			e.report(id)
		}
		if err := e.eng.Sweep(t.Context(), true); err != nil {
			t.Fatal(err)
		}
		if n := e.postures.Len(); n != 4 {
			t.Errorf("%d entries after the sweep, want 4 (2 devices by ID and by certificate)", n)
		}
		counting := &countingStore{Store: e.st}
		for _, l := range []Lookup{{DeviceID: "dev-1"}, {CertSHA256: "sha-dev-2"}} {
			if _, err := e.postures.Posture(t.Context(), counting, l); err != nil {
				t.Fatal(err)
			}
		}
		if counting.reads != 0 {
			t.Errorf("%d store reads after the sweep, want none", counting.reads)
		}
	})
	t.Run("a nil cache reads the store", func(t *testing.T) {
		e, _, _ := cachedEngine(t)
		e.enroll("dev", "")
		var pc *PostureCache
		if _, err := pc.Posture(t.Context(), e.st, Lookup{DeviceID: "dev"}); err != nil {
			t.Fatal(err)
		}
		pc.Forget("dev")
	})
}

// countingStore counts posture reads.
type countingStore struct {
	store.Store
	reads int
}

func (s *countingStore) Posture(ctx context.Context, id string) (store.Posture, error) {
	s.reads++
	return s.Store.Posture(ctx, id)
}

func (s *countingStore) PostureByCert(ctx context.Context, sha string) (store.Posture, error) {
	s.reads++
	return s.Store.PostureByCert(ctx, sha)
}

// racingStore's Posture returns what it read before a write that lands
// (and forgets the device) while the read is under way.
type racingStore struct {
	store.Store
	c *PostureCache
}

func (s *racingStore) Posture(ctx context.Context, id string) (store.Posture, error) {
	p, err := s.Store.Posture(ctx, id)
	s.c.Forget(id)
	return p, err
}

func (e *engineEnv) decideBy(l Lookup) Decision {
	e.t.Helper()
	d, err := e.eng.Decide(context.Background(), l, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}
