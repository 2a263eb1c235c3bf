package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

func TestAKeyStopsWithItsDashboardAccount(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// end takes the owner away.
		end func(t *testing.T, f *fixture)
	}{
		{"an owner disabled by an admin", func(t *testing.T, f *fixture) {
			if _, err := f.store.DisableUser(ctx, "ana", store.Disable{At: t0, Reason: store.DisabledByAdmin, By: "user:root"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"an owner disabled after 90 days without sign-in", func(t *testing.T, f *fixture) {
			if _, err := f.store.DisableUser(ctx, "ana", store.Disable{At: t0, Reason: store.DisabledInactive, By: "postern-server"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"an owner deleted", func(t *testing.T, f *fixture) {
			if err := f.store.DeleteUser(ctx, "ana"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" ends the key made on the dashboard, not one made on the command line", func(t *testing.T) {
			clk := fakeKeyClock(t, time.Unix(1000, 0))
			f := newFixture(t)
			if err := f.store.CreateUser(ctx, store.User{Username: "ana", FirstName: "Ana", LastName: "Lima", Role: "analyst", PasswordHash: "h",
				PasswordChangedAt: t0, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			plain, rec, err := store.NewAPIKey("ana's script", t0)
			if err != nil {
				t.Fatal(err)
			}
			rec.Scopes, rec.Owner = []store.Scope{store.ScopeDecisionRead}, "user:ana"
			if err := f.store.CreateAPIKey(ctx, rec); err != nil {
				t.Fatal(err)
			}
			cli := f.addKey(t, "gateway", []store.Scope{store.ScopeDecisionRead}, time.Time{})
			if got := f.get("/v1/decision?device_id=dev", bearer(plain), "").Code; got != http.StatusOK {
				t.Fatalf("before: status %d, want 200", got)
			}
			tt.end(t, f)
			clk.Set(clk.Now().Add(keyCacheTTL))
			if got := f.get("/v1/decision?device_id=dev", bearer(plain), "").Code; got != http.StatusUnauthorized {
				t.Errorf("the account's key: status %d, want 401", got)
			}
			if got := f.get("/v1/decision?device_id=dev", bearer(cli), "").Code; got != http.StatusOK {
				t.Errorf("the command line's key: status %d, want 200", got)
			}
		})
	}
}
