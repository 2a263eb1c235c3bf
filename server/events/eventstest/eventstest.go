// Package eventstest runs a server replica's event machinery (store, audit
// log, bus and the feed filling it) for the tests of the packages that
// deliver events: webhooks (events) and the event stream (api).
//
// The package is portable; only tests import it.
package eventstest

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/store/pgtest"
)

// T0 dates every row a Replica records, so that tests pass on any day.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// ReasonAdmin is every recorded change's summary: it holds <, > and &,
// which every surface must deliver as they are.
const ReasonAdmin = "os_patched: <3 updates> pending & overdue"

// Replica is what one server process holds of the event machinery: its
// store connection, audit log, bus and the feed filling it.
type Replica struct {
	Store store.Store
	Log   *audit.Log
	Bus   *events.Bus
	Feed  *events.Feed
}

// New starts a replica's event machinery over st, as serve.Run does: the
// feed is primed, then polls every 20 ms until the test ends.
func New(t testing.TB, st store.Store) *Replica {
	t.Helper()
	return NewPolling(t, st, 20*time.Millisecond)
}

// NewPolling is New with the feed's poll interval given.
func NewPolling(t testing.TB, st store.Store, poll time.Duration) *Replica {
	t.Helper()
	r := &Replica{Store: st, Log: audit.New(st, func() time.Time { return T0 }, nil), Bus: events.NewBus(nil)}
	r.Feed = events.NewFeed(st, r.Bus, nil)
	if err := r.Feed.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Feed.Run(ctx, poll) }()
	t.Cleanup(func() { cancel(); <-done; r.Bus.Close() })
	return r
}

// Change records a decision change of dev, as the decision engine does,
// and returns its event ID.
func (r *Replica) Change(t testing.TB, dev string, allow bool) uint64 {
	t.Helper()
	row, err := r.Log.Append(context.Background(), audit.Entry{Actor: audit.ActorServer, Kind: audit.KindDecisionChanged, DeviceID: dev,
		Details: events.ChangeDetails{PreviousAllow: !allow, Allow: allow, CertSHA256: "ab", Org: "dmh", ReasonAdmin: ReasonAdmin, EventTime: T0}})
	if err != nil {
		t.Fatal(err)
	}
	r.Feed.Nudge()
	return row.Seq
}

// Other records an audit row that is not an event.
func (r *Replica) Other(t testing.TB) {
	t.Helper()
	if _, err := r.Log.Append(context.Background(), audit.Entry{Actor: "carol", Kind: audit.KindTokenCreated}); err != nil {
		t.Fatal(err)
	}
}

// OpenSQLite opens the SQLite store in dir until the test ends.
func OpenSQLite(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// PostgresStores opens n stores on one new PostgreSQL database, as n
// replicas would.
func PostgresStores(t *testing.T, n int) []store.Store {
	t.Helper()
	dsn := pgtest.DSN(t)
	out := make([]store.Store, n)
	for i := range out {
		st, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[i] = st
	}
	return out
}
