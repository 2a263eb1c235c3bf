package api

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/store/pgtest"
)

// replica is what one server process holds of the event machinery: its
// store connection, audit log, bus and the feed filling it.
type replica struct {
	st   store.Store
	log  *audit.Log
	bus  *events.Bus
	feed *events.Feed
}

// newReplica starts a replica's event machinery over st, as serve.Run
// does: the feed is primed, then polls every 20 ms until the test ends.
func newReplica(t *testing.T, st store.Store) *replica {
	t.Helper()
	return newReplicaPolling(t, st, 20*time.Millisecond)
}

// newReplicaPolling is newReplica with the feed's poll interval given.
func newReplicaPolling(t *testing.T, st store.Store, poll time.Duration) *replica {
	t.Helper()
	r := &replica{st: st, log: audit.New(st, func() time.Time { return t0 }, nil), bus: events.NewBus(nil)}
	r.feed = events.NewFeed(st, r.bus, nil)
	if err := r.feed.Prime(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.feed.Run(ctx, poll) }()
	t.Cleanup(func() { cancel(); <-done; r.bus.Close() })
	return r
}

// change records a decision change of dev, as the decision engine does,
// and returns its event ID.
func (r *replica) change(t *testing.T, dev string, allow bool) uint64 {
	t.Helper()
	row, err := r.log.Append(context.Background(), audit.Entry{Actor: audit.ActorServer, Kind: audit.KindDecisionChanged, DeviceID: dev,
		Details: events.ChangeDetails{PreviousAllow: !allow, Allow: allow, CertSHA256: "ab", Org: "dmh", EventTime: t0}})
	if err != nil {
		t.Fatal(err)
	}
	r.feed.Nudge()
	return row.Seq
}

// other records an audit row that is not an event.
func (r *replica) other(t *testing.T) {
	t.Helper()
	if _, err := r.log.Append(context.Background(), audit.Entry{Actor: "carol", Kind: audit.KindTokenCreated}); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresReplicas opens n stores on one new PostgreSQL database.
func postgresReplicas(t *testing.T, n int) []store.Store {
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
