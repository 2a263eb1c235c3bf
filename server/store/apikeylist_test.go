package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListAPIKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		at := time.Unix(1_700_000_000, 0).UTC()
		st := b.openNew(t)
		var l APIKeyLister = st
		t.Run("an empty store lists no key", func(t *testing.T) {
			got, err := l.APIKeys(ctx)
			if err != nil || len(got) != 0 {
				t.Fatalf("keys %v, err %v", got, err)
			}
		})
		var want []APIKey
		for i, name := range []string{"gw-east", "gw-west"} {
			_, k, err := NewAPIKey(name, at.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
			want = append(want, k)
		}
		r := st
		if err := r.RevokeAPIKey(ctx, want[0].ID, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want[0].RevokedAt = at.Add(time.Hour)
		t.Run("keys are listed oldest first, revoked ones with their time", func(t *testing.T) {
			got, err := l.APIKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	})
}

func TestSetRole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.openNew(t)
		acc := st
		if err := acc.CreateUser(ctx, User{Username: "ana", FirstName: "Ana", LastName: "Lima", Role: "viewer", PasswordHash: "h",
			CreatedAt: time.Unix(1, 0)}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, user, role string
			wantErr          bool
			notFound         bool
		}{
			{"a user's role is replaced", "ana", "analyst", false, false},
			{"an unknown user is not found", "bob", "admin", true, true},
			{"an empty role is refused", "ana", "", true, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := acc.SetRole(ctx, tt.user, tt.role)
				if (err != nil) != tt.wantErr || errors.Is(err, ErrNotFound) != tt.notFound {
					t.Fatalf("err = %v", err)
				}
			})
		}
		t.Run("the new role is read back", func(t *testing.T) {
			u, err := acc.User(ctx, "ana")
			if err != nil || u.Role != "analyst" {
				t.Errorf("role %q, err %v", u.Role, err)
			}
		})
	})
}
