package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/events"
)

// sseEvent is one parsed Server-Sent Event (comments counted apart).
type sseEvent struct {
	ID, Name string
	Data     events.StreamEvent
}

type sseReader struct {
	t        *testing.T
	sc       *bufio.Scanner
	comments []string
}

// next reads up to the next event, collecting comment lines on the way.
func (r *sseReader) next() (sseEvent, bool) {
	r.t.Helper()
	var e sseEvent
	var seen bool
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if seen {
				return e, true
			}
		case strings.HasPrefix(line, ":"):
			r.comments = append(r.comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "id: "):
			e.ID, seen = line[4:], true
		case strings.HasPrefix(line, "event: "):
			e.Name, seen = line[7:], true
		case strings.HasPrefix(line, "data: "):
			seen = true
			// Every event of every stream test: a gateway's log shows
			// the reason as written, never \u003c for <.
			for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
				if strings.Contains(line, esc) {
					r.t.Errorf("data %q escapes <, > or &", line)
				}
			}
			if err := json.Unmarshal([]byte(line[6:]), &e.Data); err != nil {
				r.t.Fatalf("data %q: %v", line, err)
			}
		}
	}
	return e, false
}

func openStream(t *testing.T, ctx context.Context, url, key, lastID string) (*http.Response, *sseReader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events", nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}
}

func flip(dev string, allow bool, at time.Time, codes ...string) events.Event {
	return events.Event{Kind: events.KindComplianceChange, DeviceID: dev, CertSHA256: "ab", Org: "dmh",
		PreviousStatus: events.StatusOf(!allow), CurrentStatus: events.StatusOf(allow), ReasonCodes: codes,
		ReasonAdmin: "Wi-Fi is open", PolicyVersion: 3, EventTime: at}
}

func TestEventStream(t *testing.T) {
	bus := events.NewBus(nil)
	f := newFixtureWith(t, "", func(c *Config) { c.Events = bus; c.Heartbeat = 20 * time.Millisecond })
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("a request without the key is unauthorized", func(t *testing.T) {
		resp, _ := openStream(t, ctx, srv.URL, "", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("a malformed Last-Event-ID is a bad request", func(t *testing.T) {
		resp, _ := openStream(t, ctx, srv.URL, f.key, "abc")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", resp.StatusCode)
		}
	})

	resp, r := openStream(t, ctx, srv.URL, f.key, "")
	t.Run("the stream is served as text/event-stream", func(t *testing.T) {
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
		}
	})
	bus.Publish(flip("dev", false, t0, "control_failed:wifi_encryption"))
	bus.Publish(events.Event{Kind: events.KindDeviceRevoked, DeviceID: "old", CurrentStatus: events.StatusNotCompliant, EventTime: t0})
	t.Run("events arrive in order shaped after CAEP", func(t *testing.T) {
		first, _ := r.next()
		second, _ := r.next()
		want := []sseEvent{
			{ID: "1", Name: "device-compliance-change", Data: events.StreamEvent{ID: "1", EventType: events.EventTypeComplianceChange,
				EventTimestamp: t0.Unix(), DeviceID: "dev", CertSHA256: "ab",
				Subject:       &events.Subject{Format: "complex", Device: &events.Identifier{Format: "opaque", ID: "dev"}, Tenant: &events.Identifier{Format: "opaque", ID: "dmh"}},
				CurrentStatus: "not-compliant", PreviousStatus: "compliant", ReasonCodes: []string{"control_failed:wifi_encryption"},
				ReasonAdmin: map[string]string{"en": "Wi-Fi is open"}, PolicyVersion: 3}},
			{ID: "2", Name: "device-revoked", Data: events.StreamEvent{ID: "2", EventType: events.EventTypeDeviceRevoked, EventTimestamp: t0.Unix(),
				DeviceID: "old", Subject: &events.Subject{Format: "complex", Device: &events.Identifier{Format: "opaque", ID: "old"}}, CurrentStatus: "not-compliant"}},
		}
		if diff := cmp.Diff(want, []sseEvent{first, second}); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("an idle stream carries heartbeat comments", func(t *testing.T) {
		bus.Publish(flip("dev", true, t0.Add(time.Minute)))
		r.next()
		r.comments = nil
		// Wait for a heartbeat without a clock: the stream stays open and
		// the reader blocks until one arrives.
		for !contains(r.comments, "heartbeat") {
			if !r.sc.Scan() {
				t.Fatal("stream ended")
			}
			if l := r.sc.Text(); strings.HasPrefix(l, ":") {
				r.comments = append(r.comments, strings.TrimSpace(l[1:]))
			}
		}
	})
	t.Run("a client resuming with Last-Event-ID gets only what it missed", func(t *testing.T) {
		_, r2 := openStream(t, ctx, srv.URL, f.key, "1")
		var ids []string
		for range 2 {
			e, _ := r2.next()
			ids = append(ids, e.ID)
		}
		if diff := cmp.Diff([]string{"2", "3"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
	t.Run("a client resuming from an id this server never issued is told to reset", func(t *testing.T) {
		_, r3 := openStream(t, ctx, srv.URL, f.key, "999")
		e, _ := r3.next()
		if e.Name != "reset" || e.Data.EventType != events.EventTypeReset || e.ID != "3" {
			t.Errorf("got %+v, want a reset at id 3", e)
		}
	})
	t.Run("closing the bus ends the stream", func(t *testing.T) {
		bus.Close()
		for {
			if _, ok := r.next(); !ok {
				break
			}
		}
	})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
