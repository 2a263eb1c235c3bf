package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestAccountState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for _, u := range []struct{ name, role string }{{"ann", "admin"}, {"bob", "admin"}, {"cy", "viewer"}} {
			if err := s.CreateUser(ctx, User{Username: u.name, FirstName: "F", LastName: "L", Role: u.role, PasswordHash: "h",
				PasswordChangedAt: now, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("disabling ends the account's sessions at once and no one else's", func(t *testing.T) {
			for i, u := range []string{"cy", "cy", "bob"} {
				if err := s.CreateSession(ctx, Session{IDHash: fmt.Sprint("s", i), Username: u, CreatedAt: now, LastSeenAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			changed, err := s.DisableUser(ctx, "cy", Disable{At: now, Reason: DisabledByAdmin, By: "user:ann", KeepAdmin: true})
			if err != nil || !changed {
				t.Fatalf("DisableUser = %v, %v; want true, nil", changed, err)
			}
			for id, want := range map[string]error{"s0": ErrNotFound, "s1": ErrNotFound, "s2": nil} {
				if _, err := s.Session(ctx, id); !errors.Is(err, want) {
					t.Errorf("session %s: %v, want %v", id, err, want)
				}
			}
			u, err := s.User(ctx, "cy")
			if err != nil || !u.Disabled() || u.State() != "disabled" || u.DisabledBy != "user:ann" || u.DisabledReason != DisabledByAdmin {
				t.Errorf("disabled user = %+v, %v", u, err)
			}
		})
		t.Run("two admins disabling each other at once leave one enabled", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, name := range []string{"ann", "bob"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = s.DisableUser(ctx, name, Disable{At: now, Reason: DisabledByAdmin, By: "x", KeepAdmin: true})
				}()
			}
			wg.Wait()
			refused := 0
			for _, err := range errs {
				if errors.Is(err, ErrLastAdmin) {
					refused++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if refused != 1 {
				t.Fatalf("errors %v: want exactly one ErrLastAdmin", errs)
			}
			for _, name := range []string{"ann", "bob"} {
				if _, err := s.EnableUser(ctx, name, now); err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("the inactivity sweep spares an account active since it looked", func(t *testing.T) {
			if err := s.RecordLogin(ctx, "bob", now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			changed, err := s.DisableUser(ctx, "bob", Disable{At: now.Add(2 * time.Hour), Reason: DisabledInactive, IdleSince: now})
			if err != nil || changed {
				t.Fatalf("DisableUser = %v, %v; want false, nil", changed, err)
			}
		})
		t.Run("enabling clears locks and counts as activity", func(t *testing.T) {
			if _, err := s.RecordLoginFailure(ctx, "cy", 1, now); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordSourceFailure(ctx, "cy", "192.0.2.7", 1, now); err != nil {
				t.Fatal(err)
			}
			at := now.Add(24 * time.Hour)
			if changed, err := s.EnableUser(ctx, "cy", at); err != nil || !changed {
				t.Fatalf("EnableUser = %v, %v", changed, err)
			}
			u, _ := s.User(ctx, "cy")
			src, _ := s.UserSource(ctx, "cy", "192.0.2.7")
			if u.Disabled() || u.Locked() || !u.EnabledAt.Equal(at) || src.Locked() || src.FailedAttempts != 0 {
				t.Errorf("after enable: user %+v, source %+v", u, src)
			}
		})
	})
}
