package serve

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/store"
)

func TestRevocationWatcher(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := clock.Now().UTC()
	tok := store.Token{Hash: "h", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	enroll := func(id string) {
		t.Helper()
		tok.Hash = "hash-" + id
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: id, CertSHA256: "cert-" + id, CertNotAfter: now.Add(time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"old", "a", "b"} {
		enroll(id)
	}
	if err := st.Revoke(ctx, "old", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	var cut, changed []string
	w := newRevocationWatcher(st, func(id string) int { cut = append(cut, id); return 1 },
		func(_ context.Context, id string) { changed = append(changed, id) })
	if err := w.prime(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("revocations made before the server started are not acted on", func(t *testing.T) {
		if err := w.poll(ctx); err != nil {
			t.Fatal(err)
		}
		if len(cut) != 0 {
			t.Fatalf("cut off %v, want none", cut)
		}
	})
	t.Run("a new revocation is acted on once, even when written with an older time", func(t *testing.T) {
		if err := st.Revoke(ctx, "a", now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := st.Revoke(ctx, "b", now.Add(-time.Hour).Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := w.poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]string{"b", "a"}, cut); diff != "" {
			t.Errorf("cut off (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(cut, changed); diff != "" {
			t.Errorf("re-decided (-cut +changed):\n%s", diff)
		}
	})
	t.Run("a revocation through the wrapped store is acted on at once", func(t *testing.T) {
		cut, changed = nil, nil
		enroll("c")
		wrapped := notifyRevoke(st, w.revoked)
		var _ store.Accounts = wrapped // every Store has them: checked when compiling
		if err := wrapped.Revoke(ctx, "c", now); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"c"}, cut); diff != "" {
			t.Errorf("cut off (-want +got):\n%s", diff)
		}
		if err := wrapped.Revoke(ctx, "missing", now); err == nil {
			t.Error("revoking an unknown device succeeded")
		}
		if len(cut) != 1 {
			t.Errorf("a failed revocation cut off %v", cut[1:])
		}
	})
}
