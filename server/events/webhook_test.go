package events_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/events/eventstest"
	"github.com/postern-dev/postern/server/store"
)

func TestSignWebhook(t *testing.T) {
	got := events.SignWebhook([]byte("secret"), eventstest.T0, []byte("{}"))
	want := "t=1740830400,v1=" + hmacHex(t, "secret", "1740830400.{}")
	if got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
}

// receiver records deliveries and fails the first failFirst of them.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []events.StreamEvent
	sigs      []string
	bodies    [][]byte
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.calls++
	if rv.calls <= rv.failFirst {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var e events.StreamEvent
	json.Unmarshal(body, &e)
	rv.got = append(rv.got, e)
	rv.sigs = append(rv.sigs, r.Header.Get(events.HeaderSignature))
	rv.bodies = append(rv.bodies, body)
}

// ids waits until n deliveries arrived (20 s at most), then returns the
// delivered IDs, with the event type's tail for resets.
func (rv *receiver) ids(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rv.mu.Lock()
		got := len(rv.got)
		rv.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries arrived, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var out []string
	for _, e := range rv.got {
		id := e.ID
		if e.EventType == events.EventTypeReset {
			id += ":reset"
		}
		out = append(out, id)
	}
	return out
}

// hooks runs events.StartWebhooks for one receiver over a replica until the
// returned stop is called (or the test ends); it returns once the hook's
// position is stored, so that later changes are delivered.
func hooks(t *testing.T, r *eventstest.Replica, url string, edit func(*events.WebhookConfig)) (stop func()) {
	t.Helper()
	cfg := events.WebhookConfig{Hooks: []events.Webhook{{URL: url, Secret: []byte("s3cret")}}, Source: r.Feed, Store: r.Store, Bus: r.Bus,
		Now: func() time.Time { return eventstest.T0 }, Backoff: time.Millisecond, Poll: 20 * time.Millisecond, LeaseRetry: 20 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := events.StartWebhooks(ctx, cfg)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitCursor(t *testing.T, st store.Store, url string) uint64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, _, err := st.State(context.Background(), events.CursorState(url))
		if err == nil {
			n, _ := strconv.ParseUint(string(v), 10, 64)
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hook stored no position: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhooks(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int
		publish   int
		wantCalls int
	}{
		{"events are delivered signed and in order", 0, 3, 3},
		{"a failing receiver gets the event again, still in order", 2, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := &receiver{failFirst: tt.failFirst}
			srv := httptest.NewServer(rv)
			defer srv.Close()
			r := eventstest.New(t, eventstest.OpenSQLite(t, t.TempDir()))
			r.Other(t) // history before the hook existed is not delivered
			r.Change(t, "old", false)
			url := srv.URL + "/hook"
			stop := hooks(t, r, url, nil)
			waitCursor(t, r.Store, url)
			var want []string
			for i := range tt.publish {
				r.Other(t)
				want = append(want, strconv.FormatUint(r.Change(t, "dev", i%2 == 0), 10))
			}
			got := rv.ids(t, len(want))
			stop()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("delivered ids (-want +got):\n%s", diff)
			}
			rv.mu.Lock()
			defer rv.mu.Unlock()
			for i, e := range rv.got {
				if wantSig := events.SignWebhook([]byte("s3cret"), eventstest.T0, rv.bodies[i]); rv.sigs[i] != wantSig {
					t.Errorf("event %s signature %q, want %q", e.ID, rv.sigs[i], wantSig)
				}
				if !bytes.Contains(rv.bodies[i], []byte(eventstest.ReasonAdmin)) {
					t.Errorf("event %s body %s does not hold %q as it is", e.ID, rv.bodies[i], eventstest.ReasonAdmin)
				}
				if e.EventType != events.EventTypeComplianceChange || e.DeviceID != "dev" || e.CertSHA256 != "ab" {
					t.Errorf("event %+v", e)
				}
			}
			if rv.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", rv.calls, tt.wantCalls)
			}
		})
	}
}

func TestWebhooksResumeAfterRestart(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	url := srv.URL + "/hook"
	dir := t.TempDir()
	st := eventstest.OpenSQLite(t, dir)
	r := eventstest.New(t, st)
	stop := hooks(t, r, url, nil)
	waitCursor(t, st, url)
	first := []uint64{r.Change(t, "dev", false), r.Change(t, "dev", true)}
	rv.ids(t, 2)
	stop()

	// Changes recorded while no server delivered webhooks.
	down := []uint64{r.Change(t, "dev", false), r.Change(t, "b", false)}
	r2 := eventstest.New(t, st)
	hooks(t, r2, url, nil)
	after := r2.Change(t, "c", false)
	got := rv.ids(t, 5)
	var want []string
	for _, id := range append(append(first, down...), after) {
		want = append(want, strconv.FormatUint(id, 10))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("each change is delivered once, across the restart (-want +got):\n%s", diff)
	}
}

func TestWebhooksResetAfterPrunedEvents(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	url := srv.URL + "/hook"
	st := eventstest.OpenSQLite(t, t.TempDir())
	r := eventstest.New(t, st)
	r.Change(t, "dev", false)
	// The hook was last at seq 1; retention then removed rows 1 to 3.
	if err := st.PutState(t.Context(), events.CursorState(url), []byte("1"), eventstest.T0); err != nil {
		t.Fatal(err)
	}
	r.Change(t, "dev", true)
	r.Change(t, "dev", false)
	if _, err := st.PruneAudit(t.Context(), eventstest.T0.Add(time.Second), eventstest.T0); err != nil {
		t.Fatal(err)
	}
	last := r.Change(t, "dev", true)
	hooks(t, r, url, nil)
	got := rv.ids(t, 2)
	want := []string{"1:reset", strconv.FormatUint(last, 10)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func TestWebhooksAcrossReplicas(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	url := srv.URL + "/hook"
	sts := eventstest.PostgresStores(t, 2)
	a, b := eventstest.New(t, sts[0]), eventstest.New(t, sts[1])
	// a starts first and delivers; b waits for the lease.
	stopA := hooks(t, a, url, nil)
	waitCursor(t, a.Store, url)
	hooks(t, b, url, nil)

	var want []string
	record := func(r *eventstest.Replica, n int) {
		for i := range n {
			want = append(want, strconv.FormatUint(r.Change(t, fmt.Sprint("dev", i), i%2 == 0), 10))
		}
	}
	record(a, 3)
	record(b, 3)
	rv.ids(t, len(want))

	// The delivering replica stops; the other takes over from the stored
	// position.
	stopA()
	record(b, 2)
	record(a, 1)
	got := rv.ids(t, len(want))
	// Give a duplicate the time to show.
	time.Sleep(100 * time.Millisecond)
	got = rv.ids(t, len(want))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("each change is delivered once by one replica (-want +got):\n%s", diff)
	}
}

func hmacHex(t *testing.T, key, msg string) string {
	t.Helper()
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhookAnsweredWhileStoppingIsNotSentAgain(t *testing.T) {
	rv := &receiver{}
	arrived, release := make(chan struct{}, 8), make(chan struct{})
	// The receiver takes the event, then answers only once the server is
	// already stopping.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rv.ServeHTTP(w, r)
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	url := srv.URL + "/hook"
	st := eventstest.OpenSQLite(t, t.TempDir())
	r := eventstest.New(t, st)
	stop := hooks(t, r, url, nil)
	waitCursor(t, st, url)
	first := r.Change(t, "dev", false)
	<-arrived
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(50 * time.Millisecond) // the stop is under way
	close(release)
	<-stopped

	r2 := eventstest.New(t, st)
	hooks(t, r2, url, nil)
	second := r2.Change(t, "dev", true)
	got := rv.ids(t, 2)
	time.Sleep(100 * time.Millisecond) // give a duplicate the time to show
	got = rv.ids(t, 2)
	want := []string{strconv.FormatUint(first, 10), strconv.FormatUint(second, 10)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("an event answered during the stop is delivered once (-want +got):\n%s", diff)
	}
}
