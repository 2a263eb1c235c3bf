package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
)

// An open event stream is no key check passed once: a key revoked or
// expired while its stream is open receives nothing more.
func TestEventStreamEndsWhenItsKeyStopsWorking(t *testing.T) {
	tests := []struct {
		name string
		// stop makes the fixture's key unusable.
		stop func(t *testing.T, f *fixture, id string)
	}{
		{"a key revoked while its stream is open", func(t *testing.T, f *fixture, id string) {
			if err := f.store.RevokeAPIKey(context.Background(), id, t0); err != nil {
				t.Fatal(err)
			}
		}},
		{"a key expiring while its stream is open", func(t *testing.T, f *fixture, _ string) { f.clock.Set(t0.Add(48 * time.Hour)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" gets no more events", func(t *testing.T) {
			clk := fakeKeyClock(t, time.Unix(1000, 0))
			bus := events.NewBus(nil)
			f := newFixtureWith(t, "", func(c *Config) { c.Events = bus; c.Heartbeat = time.Hour })
			key, rec, err := store.NewAPIKey("siem", t0)
			if err != nil {
				t.Fatal(err)
			}
			rec.ExpiresAt = t0.Add(24 * time.Hour)
			if err := f.store.CreateAPIKey(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(f.h)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, r := openStream(t, ctx, srv.URL, key, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			bus.Publish(flip("dev", false, t0, "control_failed:firewall"))
			if e, ok := r.next(); !ok || e.ID != "1" {
				t.Fatalf("first event: %+v, %v", e, ok)
			}
			tt.stop(t, f, rec.ID)
			clk.Set(clk.Now().Add(keyCacheTTL))
			bus.Publish(flip("dev", true, t0.Add(time.Minute)))
			if e, ok := r.next(); ok {
				t.Errorf("the stream went on after its key stopped working: %+v", e)
			}
		})
	}
}
