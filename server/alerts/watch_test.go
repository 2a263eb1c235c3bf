package alerts

import (
	"context"
	"crypto/x509"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

type raised struct {
	mu sync.Mutex
	as []Alert
}

func (r *raised) raise(a Alert) { r.mu.Lock(); r.as = append(r.as, a); r.mu.Unlock() }
func (r *raised) take() []Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Kind
	for _, a := range r.as {
		out = append(out, a.Kind)
	}
	r.as = nil
	return out
}

func newWatch(t *testing.T) (*Watcher, *raised, store.Store, *audit.Log, *testClock, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &testClock{t: t0}
	log := audit.New(st, c.Now, nil)
	r := &raised{}
	w := NewWatcher(WatchConfig{Store: st, Raise: r.raise, Audit: log, Now: c.Now})
	return w, r, st, log, c, dir
}

func TestWatcher(t *testing.T) {
	ctx := context.Background()
	t.Run("devices newly blocked and held policies are alerted once, from the scan on", func(t *testing.T) {
		w, r, _, log, _, _ := newWatch(t)
		change := func(prev, cur bool) {
			if _, err := log.Append(ctx, audit.Entry{Actor: audit.ActorServer, Kind: audit.KindDecisionChanged, DeviceID: "dev-1",
				Details: events.ChangeDetails{PreviousAllow: prev, Allow: cur, Reasons: []string{"control_failed:firewall"}, ReasonAdmin: "firewall off"}}); err != nil {
				t.Fatal(err)
			}
		}
		change(true, false) // before the first scan: not alerted
		if err := w.ScanAudit(ctx); err != nil {
			t.Fatal(err)
		}
		change(true, false)
		change(false, false) // still blocked, other reasons: not new
		change(false, true)  // allowed again
		if _, err := log.Append(ctx, audit.Entry{Actor: audit.ActorServer, Kind: audit.KindPolicyHeld,
			Details: map[string]any{"hash": "abcdef0123456789", "impact": policy.Impact{Active: 50, NewlyDenied: 40, Share: 0.8}, "max_deny_share": 0.2}}); err != nil {
			t.Fatal(err)
		}
		if err := w.ScanAudit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.ScanAudit(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]Kind{KindDeviceBlocked, KindPolicyHeld}, r.take()); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
	})
	t.Run("an exception is alerted once when it ends within 7 days", func(t *testing.T) {
		w, r, st, _, c, _ := newWatch(t)
		for id, ends := range map[string]time.Duration{"soon": 8 * 24 * time.Hour, "later": 30 * 24 * time.Hour} {
			if err := st.CreateException(ctx, store.Exception{ID: id, Scope: store.ScopeDevice, Subject: "dev-1", Control: "firewall",
				Reason: "vendor fix pending", Approver: "dana", StartsAt: t0, ExpiresAt: t0.Add(ends), CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		var got []Kind
		for range 4 {
			if err := w.CheckExceptions(ctx); err != nil {
				t.Fatal(err)
			}
			got = append(got, r.take()...)
			c.Add(12 * time.Hour)
		}
		if diff := cmp.Diff([]Kind{KindExceptionExpiring}, got); diff != "" {
			t.Errorf("alerts over two days (-want +got):\n%s", diff)
		}
	})
	t.Run("a break in the audit chain is alerted once", func(t *testing.T) {
		w, r, _, log, _, dir := newWatch(t)
		for i := range 3 {
			if _, err := log.Append(ctx, audit.Entry{Actor: "alice", Kind: audit.KindAdmin, Details: map[string]int{"n": i}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.VerifyAudit(ctx); err != nil || len(r.take()) != 0 {
			t.Fatalf("an intact chain: %v", err)
		}
		db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE audit_log SET details = '{"n":99}' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := w.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]Kind{KindAuditBroken}, r.take()); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
	})
	t.Run("the HTTPS certificate is alerted at 30, 7 and 1 days, each once", func(t *testing.T) {
		w, r, _, _, c, _ := newWatch(t)
		_, _, leaf := testCert(t, t0.Add(40*24*time.Hour))
		w.cfg.Cert = func() *x509.Certificate { return leaf }
		var days []int
		for d := 0; d <= 41; d++ {
			if err := w.CheckCert(ctx); err != nil {
				t.Fatal(err)
			}
			if len(r.take()) > 0 {
				days = append(days, d)
			}
			c.Add(24 * time.Hour)
		}
		if diff := cmp.Diff([]int{10, 33, 39}, days); diff != "" {
			t.Errorf("days alerted (-want +got):\n%s", diff)
		}
	})
}
