package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/events"
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
	done      chan struct{}
	want      int
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
	if len(rv.got) == rv.want {
		close(rv.done)
	}
}

func TestWebhooks(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int
		publish   int
		wantIDs   []string
		wantCalls int
	}{
		{"events are delivered signed and in order", 0, 3, []string{"1", "2", "3"}, 3},
		{"a failing receiver gets the event again, still in order", 2, 2, []string{"1", "2"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := &receiver{failFirst: tt.failFirst, done: make(chan struct{}), want: len(tt.wantIDs)}
			srv := httptest.NewServer(rv)
			defer srv.Close()
			bus := events.NewBus(func() time.Time { return t0 })
			ctx, cancel := context.WithCancel(context.Background())
			finished := StartWebhooks(ctx, WebhookConfig{Hooks: []Webhook{{URL: srv.URL + "/hook", Secret: []byte("s3cret")}}, Bus: bus,
				Now: func() time.Time { return t0 }, Backoff: time.Millisecond})
			for range tt.publish {
				bus.Publish(events.Event{Kind: events.KindComplianceChange, DeviceID: "dev", CurrentStatus: events.StatusNotCompliant})
			}
			select {
			case <-rv.done:
			case <-time.After(20 * time.Second):
				t.Fatal("deliveries did not arrive")
			}
			cancel()
			<-finished
			rv.mu.Lock()
			defer rv.mu.Unlock()
			var ids []string
			for i, e := range rv.got {
				ids = append(ids, e.ID)
				if want := SignWebhook([]byte("s3cret"), t0, rv.bodies[i]); rv.sigs[i] != want {
					t.Errorf("event %s signature %q, want %q", e.ID, rv.sigs[i], want)
				}
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("delivered ids (-want +got):\n%s", diff)
			}
			if rv.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", rv.calls, tt.wantCalls)
			}
		})
	}
}

func TestWebhookQueueDropsOldestAndSaysSo(t *testing.T) {
	cfg := &WebhookConfig{Queue: 2, Now: func() time.Time { return t0 }}
	s := &hookSink{cfg: cfg, wake: make(chan struct{}, 1), log: discardLogger()}
	for _, id := range []string{"1", "2", "3"} {
		s.push(StreamEvent{ID: id, EventType: EventTypeComplianceChange})
	}
	var got []string
	for {
		e, ok := s.next()
		if !ok {
			break
		}
		got = append(got, e.ID+":"+strings.TrimPrefix(e.EventType, "urn:postern:event:"))
	}
	want := []string{"2:reset", "2:" + EventTypeComplianceChange, "3:" + EventTypeComplianceChange}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
}
