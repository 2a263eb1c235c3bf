package decision

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/store/pgtest"
)

// replicaEnvs opens n engine envs on one new PostgreSQL database, each
// with its own store connection, engine, bus and feed, as n server
// replicas would.
func replicaEnvs(t *testing.T, n int) []*engineEnv {
	t.Helper()
	dsn := pgtest.DSN(t)
	out := make([]*engineEnv, n)
	for i := range out {
		st, err := store.OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[i] = newEngineEnvOn(t, "", st)
	}
	return out
}

func TestReplicasAnnounceEachChangeOnce(t *testing.T) {
	rs := replicaEnvs(t, 3)
	a := rs[0]
	a.enroll("dev", "clinic-a")
	a.report("dev")
	for _, r := range rs {
		if err := r.eng.Restore(t.Context()); err != nil {
			t.Fatal(err)
		}
		r.decide("dev") // the first decision: stored by one, adopted by the others
	}
	steps := []struct {
		name    string
		change  func()
		allow   bool
		reasons []string
	}{
		{"the report goes stale while every replica decides", func() { setNow(rs, a.now.Add(20*time.Minute)) }, false, []string{CodeReportStale}},
		{"a fresh failing report", func() { a.report("dev", checks.Firewall) }, false, []string{"control_failed:firewall"}},
		{"a fresh passing report", func() { a.report("dev") }, true, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := decisionRows(t, a)
			st.change()
			var wg sync.WaitGroup
			for _, r := range rs {
				r.postures.Forget("dev")
				wg.Go(func() {
					if err := r.eng.Reevaluate(context.Background(), "dev"); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			rows := decisionRows(t, a)[len(before):]
			if len(rows) != 1 {
				t.Fatalf("%d decision_changed rows, want 1", len(rows))
			}
			for i, r := range rs {
				ev, ok := r.nextEvent()
				if !ok {
					t.Fatalf("replica %d: no event", i)
				}
				if ev.ID != rows[0].Seq || ev.DeviceID != "dev" || ev.CertSHA256 != "sha-dev" || ev.Org != "clinic-a" ||
					ev.CurrentStatus != events.StatusOf(st.allow) || !equalStrings(ev.ReasonCodes, st.reasons) {
					t.Errorf("replica %d: event %+v, want ID %d", i, ev, rows[0].Seq)
				}
				if ev, ok := r.nextEvent(); ok {
					t.Errorf("replica %d: a second event %+v", i, ev)
				}
			}
		})
	}
}

func setNow(rs []*engineEnv, now time.Time) {
	for _, r := range rs {
		r.now = now
	}
}

func decisionRows(t *testing.T, e *engineEnv) []store.AuditRow {
	t.Helper()
	rows, err := e.st.AuditRows(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditRow
	for _, r := range rows {
		if r.Kind == audit.KindDecisionChanged {
			out = append(out, r)
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
