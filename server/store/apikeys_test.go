package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRevokeAPIKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		at := time.Unix(1_700_000_000, 0)
		st := b.openNew(t)
		_, k, err := NewAPIKey("gateway", at)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		var r APIKeyRevoker = st
		tests := []struct {
			name    string
			id      string
			at      time.Time
			wantErr error
		}{
			{"a live key is revoked", k.ID, at.Add(time.Minute), nil},
			{"a revoked key cannot be revoked again", k.ID, at.Add(time.Hour), ErrNotFound},
			{"an unknown key is not found", "0000000000000000", at, ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := r.RevokeAPIKey(ctx, tc.id, tc.at); !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
			})
		}
		t.Run("the first revocation time is kept and read back through the prepared query", func(t *testing.T) {
			got, err := st.APIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.RevokedAt.Equal(at.Add(time.Minute)) {
				t.Errorf("revoked at %v, want %v", got.RevokedAt, at.Add(time.Minute))
			}
		})
		t.Run("a revocation without a time is refused", func(t *testing.T) {
			if err := r.RevokeAPIKey(ctx, k.ID, time.Time{}); err == nil {
				t.Error("no error")
			}
		})
	})
}
