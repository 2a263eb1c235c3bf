package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Scope
		wantErr bool
	}{
		{"one scope is read", "devices:read", []Scope{ScopeDevicesRead}, false},
		{"scopes come back in the canonical order without repeats", " admin,decision:read, admin ,events:read", []Scope{ScopeDecisionRead, ScopeEventsRead, ScopeAdmin}, false},
		{"an unknown scope is refused", "devices:read,devices:delete", nil, true},
		{"a scope in the wrong case is refused", "Admin", nil, true},
		{"an empty list is refused", " , ", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScopes(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIKeyAllows(t *testing.T) {
	gw := APIKey{Scopes: GatewayScopes}
	admin := APIKey{Scopes: []Scope{ScopeAdmin}}
	for _, sc := range AllScopes {
		if !admin.Allows(sc) {
			t.Errorf("admin does not allow %s", sc)
		}
		if want := sc == ScopeDecisionRead || sc == ScopeEventsRead; gw.Allows(sc) != want {
			t.Errorf("a gateway key allows %s: %v, want %v", sc, !want, want)
		}
	}
}

func TestAPIKeyUsable(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		key  APIKey
		now  time.Time
		want bool
	}{
		{"a key without expiry is usable", APIKey{}, at, true},
		{"a key before its expiry is usable", APIKey{ExpiresAt: at.Add(time.Second)}, at, true},
		{"a key at its expiry is not", APIKey{ExpiresAt: at}, at, false},
		{"a revoked key is not", APIKey{RevokedAt: at.Add(-time.Hour)}, at, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.Usable(tc.now); got != tc.want {
				t.Errorf("Usable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScopedAPIKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		at := time.Unix(1_700_000_000, 0).UTC()
		st := b.openNew(t)
		_, k, err := NewAPIKey("automation", at)
		if err != nil {
			t.Fatal(err)
		}
		k.Scopes = []Scope{ScopeAuditRead, ScopeDevicesRead}
		k.Owner = "os:alice"
		k.ExpiresAt = at.Add(90 * 24 * time.Hour)
		if err := st.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		want := k
		want.Scopes = []Scope{ScopeDevicesRead, ScopeAuditRead}
		t.Run("scopes, owner and expiry are read back", func(t *testing.T) {
			got, err := st.APIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
		t.Run("use is recorded and never goes back in time", func(t *testing.T) {
			for _, u := range []time.Time{at.Add(time.Hour), at.Add(time.Minute)} {
				if err := st.TouchAPIKey(ctx, k.ID, u); err != nil {
					t.Fatal(err)
				}
			}
			keys, err := st.APIKeys(ctx)
			if err != nil || len(keys) != 1 {
				t.Fatalf("keys %v, err %v", keys, err)
			}
			if !keys[0].LastUsedAt.Equal(at.Add(time.Hour)) {
				t.Errorf("last used %v, want %v", keys[0].LastUsedAt, at.Add(time.Hour))
			}
		})
		bad := []struct {
			name string
			edit func(*APIKey)
		}{
			{"a key with an unknown scope", func(k *APIKey) { k.Scopes = []Scope{"devices:delete"} }},
			{"a key expiring before it is made", func(k *APIKey) { k.ExpiresAt = k.CreatedAt }},
			{"a key with an overlong owner", func(k *APIKey) { k.Owner = string(make([]byte, MaxAPIKeyOwnerLen+1)) }},
		}
		for _, tc := range bad {
			t.Run(tc.name+" is refused", func(t *testing.T) {
				_, k, err := NewAPIKey("bad", at)
				if err != nil {
					t.Fatal(err)
				}
				tc.edit(&k)
				if err := st.CreateAPIKey(ctx, k); err == nil {
					t.Error("stored")
				}
			})
		}
	})
}

func TestAPIKeyWithoutScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st := b.openNew(t)
		_, k, err := NewAPIKey("gw", time.Unix(1_700_000_000, 0))
		if err != nil {
			t.Fatal(err)
		}
		k.Scopes = nil
		if err := st.CreateAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		got, err := st.APIKey(context.Background(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(GatewayScopes, got.Scopes); diff != "" {
			t.Errorf("a key stored without scopes is a gateway's (-want +got):\n%s", diff)
		}
	})
}

// TestAPIKeysBeforeScopes: a key stored before the scopes migration (its
// row has none of the new columns' values) keeps working as a gateway
// key: decision:read and events:read, no owner, no expiry.
func TestAPIKeysBeforeScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.openNew(t)
		_, err := st.(*sqlStore).w.ExecContext(ctx, st.(*sqlStore).q(`INSERT INTO api_keys (id, name, hash, created_at) VALUES (?, ?, ?, ?)`),
			"00112233445566ff", "old-gateway", "h", int64(1_700_000_000_000_000_000))
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.APIKey(ctx, "00112233445566ff")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(GatewayScopes, got.Scopes); diff != "" || got.Owner != "" || !got.ExpiresAt.IsZero() {
			t.Errorf("old key: scopes (-want +got):\n%s owner %q expires %v", diff, got.Owner, got.ExpiresAt)
		}
	})
}
