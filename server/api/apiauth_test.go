package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// addKey stores a key with scopes (expiring at expires unless zero) and
// returns it as presented.
func (f *fixture) addKey(t *testing.T, name string, scopes []store.Scope, expires time.Time) string {
	t.Helper()
	plain, rec, err := store.NewAPIKey(name, t0)
	if err != nil {
		t.Fatal(err)
	}
	rec.Scopes, rec.ExpiresAt, rec.Owner = scopes, expires, "os:test"
	if err := f.store.CreateAPIKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return plain
}

func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

func TestGatewayEndpointScopes(t *testing.T) {
	f := newFixture(t)
	devicesOnly := f.addKey(t, "inventory", []store.Scope{store.ScopeDevicesRead}, time.Time{})
	admin := f.addKey(t, "ops", []store.Scope{store.ScopeAdmin}, time.Time{})
	expiring := f.addKey(t, "temp", []store.Scope{store.ScopeDecisionRead}, t0.Add(time.Hour))
	tests := []struct {
		name   string
		key    string
		now    time.Time
		status int
	}{
		{"a key made before scopes decides", f.key, t0, http.StatusOK},
		{"a key without decision:read is forbidden", devicesOnly, t0, http.StatusForbidden},
		{"an admin key decides", admin, t0, http.StatusOK},
		{"a key before its expiry decides", expiring, t0.Add(time.Hour - time.Second), http.StatusOK},
		{"a key at its expiry is unauthorized", expiring, t0.Add(time.Hour), http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(tc.now)
			if rec := f.get("/v1/decision?device_id=dev", bearer(tc.key), ""); rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
		})
	}
	t.Run("a key without decision:read is told which scope it lacks", func(t *testing.T) {
		rec := f.get("/v1/decision?device_id=dev", bearer(devicesOnly), "")
		if want := `{"error":"the API key lacks the scope decision:read"}` + "\n"; rec.Body.String() != want {
			t.Errorf("body %q, want %q", rec.Body, want)
		}
	})
}

func TestAPIKeyLastUsed(t *testing.T) {
	clk := fakeKeyClock(t, time.Unix(1000, 0))
	f := newFixture(t)
	id, _, _ := store.ParseAPIKey(f.key)
	use := func(at time.Time, advance time.Duration, n int) time.Time {
		t.Helper()
		f.clock.Set(at)
		clk.Set(clk.Now().Add(advance))
		for range n {
			if rec := f.get("/v1/decision?device_id=dev", bearer(f.key), ""); rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		f.api.uses.wg.Wait()
		k, err := f.store.APIKey(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	steps := []struct {
		name    string
		at      time.Time
		advance time.Duration
		want    time.Time
	}{
		{"the first use is recorded", t0, 0, t0},
		{"uses within a minute of the recorded one are not written", t0.Add(59 * time.Second), 59 * time.Second, t0},
		{"a use a minute after the recorded one is written", t0.Add(2 * time.Minute), time.Second, t0.Add(2 * time.Minute)},
		{"the recorded time survives the key cache's renewal", t0.Add(2*time.Minute + 30*time.Second), 30 * time.Second, t0.Add(2 * time.Minute)},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if got := use(s.at, s.advance, 50); !got.Equal(s.want) {
				t.Errorf("last used %v, want %v", got, s.want)
			}
		})
	}
}

// TestAuthorizeAllocatesNothingMore: checking a cached key's scope, expiry
// and last use costs the decision endpoints no allocation beyond parsing
// the presented key (store.ParseAPIKey, as before scopes).
func TestAuthorizeAllocatesNothingMore(t *testing.T) {
	fakeKeyClock(t, time.Unix(1000, 0))
	f := newFixture(t)
	req := newRequest("GET", "/v1/decision?device_id=dev", bearer(f.key), "")
	if _, res := f.api.authorize(req, store.ScopeDecisionRead); res != authOK {
		t.Fatalf("result %d", res)
	}
	f.api.uses.wg.Wait()
	allocs := testing.AllocsPerRun(100, func() {
		if _, res := f.api.authorize(req, store.ScopeDecisionRead); res != authOK {
			t.Fatalf("result %d", res)
		}
	})
	parse := testing.AllocsPerRun(100, func() { store.ParseAPIKey(f.key) })
	if allocs > parse {
		t.Errorf("%v allocations per check, want no more than parsing the key's %v", allocs, parse)
	}
}
