package api

import (
	"context"
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

	"github.com/postern-dev/postern/server/store"
)

func TestSignWebhook(t *testing.T) {
	got := SignWebhook([]byte("secret"), t0, []byte("{}"))
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
	got       []StreamEvent
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
	var e StreamEvent
	json.Unmarshal(body, &e)
	rv.got = append(rv.got, e)
	rv.sigs = append(rv.sigs, r.Header.Get(HeaderSignature))
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
		if e.EventType == EventTypeReset {
			id += ":reset"
		}
		out = append(out, id)
	}
	return out
}

// hooks runs StartWebhooks for one receiver over a replica until the
// returned stop is called (or the test ends); it returns once the hook's
// position is stored, so that later changes are delivered.
func hooks(t *testing.T, r *replica, url string, edit func(*WebhookConfig)) (stop func()) {
	t.Helper()
	cfg := WebhookConfig{Hooks: []Webhook{{URL: url, Secret: []byte("s3cret")}}, Source: r.feed, Store: r.st, Bus: r.bus,
		Now: func() time.Time { return t0 }, Backoff: time.Millisecond, Poll: 20 * time.Millisecond, LeaseRetry: 20 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := StartWebhooks(ctx, cfg)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitCursor(t *testing.T, st store.Store, url string) uint64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, _, err := st.State(context.Background(), cursorState(url))
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
			r := newReplica(t, openSQLite(t, t.TempDir()))
			r.other(t) // history before the hook existed is not delivered
			r.change(t, "old", false)
			url := srv.URL + "/hook"
			stop := hooks(t, r, url, nil)
			waitCursor(t, r.st, url)
			var want []string
			for i := range tt.publish {
				r.other(t)
				want = append(want, strconv.FormatUint(r.change(t, "dev", i%2 == 0), 10))
			}
			got := rv.ids(t, len(want))
			stop()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("delivered ids (-want +got):\n%s", diff)
			}
			rv.mu.Lock()
			defer rv.mu.Unlock()
			for i, e := range rv.got {
				if wantSig := SignWebhook([]byte("s3cret"), t0, rv.bodies[i]); rv.sigs[i] != wantSig {
					t.Errorf("event %s signature %q, want %q", e.ID, rv.sigs[i], wantSig)
				}
				if e.EventType != EventTypeComplianceChange || e.DeviceID != "dev" || e.CertSHA256 != "ab" {
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
	st := openSQLite(t, dir)
	r := newReplica(t, st)
	stop := hooks(t, r, url, nil)
	waitCursor(t, st, url)
	first := []uint64{r.change(t, "dev", false), r.change(t, "dev", true)}
	rv.ids(t, 2)
	stop()

	// Changes recorded while no server delivered webhooks.
	down := []uint64{r.change(t, "dev", false), r.change(t, "b", false)}
	r2 := newReplica(t, st)
	hooks(t, r2, url, nil)
	after := r2.change(t, "c", false)
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
	st := openSQLite(t, t.TempDir())
	r := newReplica(t, st)
	r.change(t, "dev", false)
	// The hook was last at seq 1; retention then removed rows 1 to 3.
	if err := st.PutState(t.Context(), cursorState(url), []byte("1"), t0); err != nil {
		t.Fatal(err)
	}
	r.change(t, "dev", true)
	r.change(t, "dev", false)
	if _, err := st.PruneAudit(t.Context(), t0.Add(time.Second), t0); err != nil {
		t.Fatal(err)
	}
	last := r.change(t, "dev", true)
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
	sts := postgresReplicas(t, 2)
	a, b := newReplica(t, sts[0]), newReplica(t, sts[1])
	// a starts first and delivers; b waits for the lease.
	stopA := hooks(t, a, url, nil)
	waitCursor(t, a.st, url)
	hooks(t, b, url, nil)

	var want []string
	record := func(r *replica, n int) {
		for i := range n {
			want = append(want, strconv.FormatUint(r.change(t, fmt.Sprint("dev", i), i%2 == 0), 10))
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
