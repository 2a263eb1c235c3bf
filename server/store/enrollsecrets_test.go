package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestEnrollSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		var ss SecretStore = s
		mk := func(ttl time.Duration, maxUses int, at time.Time) EnrollSecret {
			t.Helper()
			_, rec, err := NewEnrollSecret([32]byte{}, ttl, maxUses, "clinic-a", "it", at)
			if err != nil {
				t.Fatal(err)
			}
			if err := ss.CreateEnrollSecret(ctx, rec); err != nil {
				t.Fatal(err)
			}
			return rec
		}
		enroll := func(hash, id string) error {
			_, err := s.Enroll(ctx, hash, Device{ID: id, CertSHA256: "c-" + id}, t0)
			return err
		}
		t.Run("a secret enrolls many devices, each with its labels", func(t *testing.T) {
			sec := mk(time.Hour, 0, t0)
			for i := range 3 {
				if err := enroll(sec.Hash, fmt.Sprintf("fleet-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			d, err := s.Device(ctx, "fleet-2")
			if err != nil || d.Org != "clinic-a" || d.Owner != "it" {
				t.Fatalf("device = %+v, %v", d, err)
			}
		})
		t.Run("a use limit holds, also under concurrent enrollments", func(t *testing.T) {
			sec := mk(time.Hour, 3, t0)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { errs[i] = enroll(sec.Hash, fmt.Sprintf("lim-%d", i)) })
			}
			wg.Wait()
			ok, used := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrTokenUsed):
					used++
				default:
					t.Errorf("err = %v", err)
				}
			}
			if ok != 3 || used != 5 {
				t.Errorf("%d enrolled, %d refused as used up; want 3 and 5", ok, used)
			}
		})
		t.Run("an expired secret is refused", func(t *testing.T) {
			sec := mk(time.Hour, 0, t0.Add(-2*time.Hour))
			if err := enroll(sec.Hash, "exp-1"); !errors.Is(err, ErrTokenExpired) {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("a revoked secret is refused and listed as revoked", func(t *testing.T) {
			sec := mk(time.Hour, 0, t0)
			if err := enroll(sec.Hash, "rev-1"); err != nil {
				t.Fatal(err)
			}
			got, err := ss.RevokeEnrollSecret(ctx, sec.ID, t0.Add(time.Minute))
			if err != nil || got.RevokedAt.IsZero() || got.Uses != 1 {
				t.Fatalf("revoked = %+v, %v", got, err)
			}
			if err := enroll(sec.Hash, "rev-2"); !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("err = %v", err)
			}
			if _, err := s.Device(ctx, "rev-1"); err != nil {
				t.Errorf("a device enrolled before the revocation is gone: %v", err)
			}
			if _, err := ss.RevokeEnrollSecret(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
				t.Errorf("revoking an unknown secret: %v", err)
			}
		})
		t.Run("the list shows every secret without the secret", func(t *testing.T) {
			all, err := ss.EnrollSecrets(ctx)
			if err != nil || len(all) != 4 {
				t.Fatalf("%d secrets, %v", len(all), err)
			}
		})
	})
	t.Run("bad parameters are refused", func(t *testing.T) {
		for name, f := range map[string]func() error{
			"no org":        func() error { _, _, err := NewEnrollSecret([32]byte{}, time.Hour, 0, " ", "", t0); return err },
			"zero lifetime": func() error { _, _, err := NewEnrollSecret([32]byte{}, 0, 0, "o", "", t0); return err },
			"negative uses": func() error { _, _, err := NewEnrollSecret([32]byte{}, time.Hour, -1, "o", "", t0); return err },
		} {
			if f() == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
}
