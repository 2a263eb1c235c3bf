package api

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/events/eventstest"
	"github.com/postern-dev/postern/server/store"
)

// streamServer serves one replica's /v1/events; key is a gateway API key
// of the shared database (created once per database).
func streamServer(t *testing.T, r *eventstest.Replica) string {
	t.Helper()
	h := NewHandler(Config{Store: r.Store, Decider: newEngine(r.Store, checks.DefaultPolicy(), nil, time.Now), Events: r.Bus, Heartbeat: 50 * time.Millisecond})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func newAPIKey(t *testing.T, st store.Store) string {
	t.Helper()
	plain, rec, err := store.NewAPIKey("gateway", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return plain
}

func streamIDs(r *sseReader, n int) []string {
	var out []string
	for range n {
		e, ok := r.next()
		if !ok {
			break
		}
		id := e.ID
		if e.Name == "reset" {
			id += ":reset"
		}
		out = append(out, id)
	}
	return out
}

func TestEventStreamAcrossReplicas(t *testing.T) {
	sts := eventstest.PostgresStores(t, 2)
	key := newAPIKey(t, sts[0])
	a, b := eventstest.New(t, sts[0]), eventstest.New(t, sts[1])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, onA := openStream(t, ctx, streamServer(t, a), key, "")
	_, onB := openStream(t, ctx, streamServer(t, b), key, "")

	t.Run("a change recorded by replica A reaches clients of both replicas with one ID", func(t *testing.T) {
		id := strconv.FormatUint(a.Change(t, "dev", false), 10)
		eb, _ := onB.next()
		ea, _ := onA.next()
		if eb.ID != id || ea.ID != id || eb.Data.DeviceID != "dev" || eb.Data.CurrentStatus != "not-compliant" || eb.Data.ReasonAdmin["en"] != eventstest.ReasonAdmin {
			t.Errorf("replica B sent %+v, replica A %+v; want ID %s on both", eb, ea, id)
		}
	})
	t.Run("a client moving to the other replica resumes where it was", func(t *testing.T) {
		seen := strconv.FormatUint(b.Change(t, "dev", true), 10)
		onA.next()
		missed := []string{strconv.FormatUint(a.Change(t, "dev", false), 10), strconv.FormatUint(b.Change(t, "dev2", false), 10)}
		// Both replicas' feeds have read the log once the last change
		// shows on a stream.
		for _, r := range []*sseReader{onA, onB} {
			for {
				if e, _ := r.next(); e.ID == missed[1] {
					break
				}
			}
		}
		_, moved := openStream(t, ctx, streamServer(t, b), key, seen)
		if diff := cmp.Diff(missed, streamIDs(moved, 2)); diff != "" {
			t.Errorf("replayed (-want +got):\n%s", diff)
		}
	})
}

func TestEventStreamResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st := eventstest.OpenSQLite(t, dir)
	key := newAPIKey(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := eventstest.New(t, st)
	_, r := openStream(t, ctx, streamServer(t, first), key, "")
	seen := strconv.FormatUint(first.Change(t, "dev", false), 10)
	if got := streamIDs(r, 1); len(got) != 1 || got[0] != seen {
		t.Fatalf("first run sent %v, want %s", got, seen)
	}
	// The server stops; while it is down (or from another replica) more
	// is recorded; then it starts again with an empty memory.
	first.Bus.Close()
	first.Other(t)
	missed := []string{strconv.FormatUint(first.Change(t, "dev", true), 10)}
	first.Other(t)
	missed = append(missed, strconv.FormatUint(first.Change(t, "b", false), 10))
	second := eventstest.New(t, st)
	url := streamServer(t, second)

	t.Run("a client resuming with its Last-Event-ID gets what it missed and no reset", func(t *testing.T) {
		_, r := openStream(t, ctx, url, key, seen)
		after := strconv.FormatUint(second.Change(t, "c", true), 10)
		if diff := cmp.Diff(append(missed, after), streamIDs(r, 3)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("a client with an ID of the old start-time scheme is told to reset", func(t *testing.T) {
		_, r := openStream(t, ctx, url, key, strconv.FormatUint(uint64(t0.UnixMicro()), 10))
		if got := streamIDs(r, 1); len(got) != 1 || got[0] != strconv.FormatUint(second.Bus.LastID(), 10)+":reset" {
			t.Errorf("got %v, want a reset at the bus's last ID", got)
		}
	})
	t.Run("a client older than the retained events is told to reset", func(t *testing.T) {
		for range events.DefaultReplay {
			second.Change(t, "dev", false)
		}
		third := eventstest.New(t, st)
		_, r := openStream(t, ctx, streamServer(t, third), key, seen)
		got := streamIDs(r, 1)
		if len(got) != 1 || got[0] != strconv.FormatUint(third.Bus.LastID(), 10)+":reset" {
			t.Errorf("got %v, want a reset", got)
		}
	})
}

func TestEventStreamCarriesALocalChangeWithoutWaitingForThePoll(t *testing.T) {
	st := eventstest.OpenSQLite(t, t.TempDir())
	key := newAPIKey(t, st)
	// The feed would poll only after an hour: the change's nudge is what
	// makes it read the log.
	r := eventstest.NewPolling(t, st, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, stream := openStream(t, ctx, streamServer(t, r), key, "")
	start := time.Now()
	id := strconv.FormatUint(r.Change(t, "dev", false), 10)
	if got := streamIDs(stream, 1); len(got) != 1 || got[0] != id {
		t.Fatalf("got %v, want %s", got, id)
	}
	t.Logf("recorded to streamed in %v", time.Since(start))
}
