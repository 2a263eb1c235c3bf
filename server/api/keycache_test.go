package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// fakeKeyClock replaces the key cache's clock for one test.
func fakeKeyClock(t *testing.T, start time.Time) *testClock {
	t.Helper()
	c := &testClock{t: start}
	old := keyClock
	keyClock = c.Now
	t.Cleanup(func() { keyClock = old })
	return c
}

func TestAPIKeyCache(t *testing.T) {
	tests := []struct {
		name string
		// revokeAfterUse revokes the key after one successful request;
		// otherwise before any.
		revokeAfterUse bool
		// advance is how long after the revocation the key is presented.
		advance time.Duration
		want    int
	}{
		{"a key revoked before its first use is refused at once", false, 0, http.StatusUnauthorized},
		{"a cached key still works just inside the cache lifetime after its revocation", true, keyCacheTTL - time.Millisecond, http.StatusOK},
		{"a revoked key is refused once the cache lifetime has passed", true, keyCacheTTL, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := fakeKeyClock(t, time.Unix(1000, 0))
			f := newFixture(t)
			auth := map[string]string{"Authorization": "Bearer " + f.key}
			if tc.revokeAfterUse {
				if code := f.get("/v1/decision?device_id=dev", auth, "").Code; code != http.StatusOK {
					t.Fatalf("status before revocation = %d", code)
				}
			}
			revokeKey(t, f, time.Unix(1000, 0))
			clk.Set(clk.Now().Add(tc.advance))
			if code := f.get("/v1/decision?device_id=dev", auth, "").Code; code != tc.want {
				t.Errorf("status = %d, want %d", code, tc.want)
			}
		})
	}
	t.Run("a cached key id with another secret is refused", func(t *testing.T) {
		fakeKeyClock(t, time.Unix(1000, 0))
		f := newFixture(t)
		f.get("/v1/decision?device_id=dev", map[string]string{"Authorization": "Bearer " + f.key}, "")
		// Same ID, different secret of the same length.
		forged := f.key[:len(f.key)-43] + strings.Repeat("A", 43)
		if code := f.get("/v1/decision?device_id=dev", map[string]string{"Authorization": "Bearer " + forged}, "").Code; code != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", code)
		}
	})
}

// revokeKey revokes the fixture's key in the store, as
// `postern-server apikey revoke` would from another process.
func revokeKey(t *testing.T, f *fixture, at time.Time) {
	t.Helper()
	id, _, ok := store.ParseAPIKey(f.key)
	if !ok {
		t.Fatal("fixture key does not parse")
	}
	var r store.APIKeyRevoker = f.store
	if err := r.RevokeAPIKey(context.Background(), id, at); err != nil {
		t.Fatal(err)
	}
}
