package users

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/store"
)

func TestStrangerCannotLockOwnerOut(t *testing.T) {
	ctx := context.Background()
	rec := &recordingAuditor{}
	s, c := newService(t)
	s.audit = rec
	addBob(t, s) // an administrator
	const office, stranger, botnet = "10.1.1.5", "203.0.113.9", "198.51.100."
	if _, err := s.AuthenticateFrom(ctx, office, "bob", "Harbor-Initial-9"); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Hour)
	// Guesses from many addresses, never more than the per-address limit
	// from any, so that only the account's count can stop them.
	for i := range 3 * LockAfter {
		s.AuthenticateFrom(ctx, botnet+string(rune('0'+i%10))+string(rune('0'+i/10)), "bob", "guess")
	}
	for range LockAfter {
		s.AuthenticateFrom(ctx, stranger, "bob", "guess")
	}
	t.Run("the owner still signs in from an address they use", func(t *testing.T) {
		if _, err := s.AuthenticateFrom(ctx, office, "bob", "Harbor-Initial-9"); err != nil {
			t.Errorf("from the office during the attack: %v, want a sign-in", err)
		}
	})
	t.Run("no other address gets past the account's lock, the right password included", func(t *testing.T) {
		if _, err := s.AuthenticateFrom(ctx, "192.0.2.44", "bob", "Harbor-Initial-9"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("a new address with the right password: %v, want ErrBadCredentials", err)
		}
	})
	t.Run("the lock is audited once with what it applies to", func(t *testing.T) {
		var locks []map[string]any
		for _, e := range rec.entries {
			if e.Kind == "user_locked" {
				locks = append(locks, e.Details.(map[string]any))
			}
		}
		if len(locks) != 1 || locks[0]["applies_to"] != lockUnknownSources || locks[0]["user"] != "bob" {
			t.Errorf("user_locked entries %v, want one for unknown addresses", locks)
		}
	})
	t.Run("failures from the owner's own address lock that address alone", func(t *testing.T) {
		for range LockAfter {
			s.AuthenticateFrom(ctx, office, "bob", "typo")
		}
		if _, err := s.AuthenticateFrom(ctx, office, "bob", "Harbor-Initial-9"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("the office after five typos: %v, want ErrBadCredentials", err)
		}
		if src, _ := s.st.UserSource(ctx, "bob", office); !src.Locked() {
			t.Errorf("office source %+v, want locked", src)
		}
		c.t = c.t.Add(DefaultLockFor)
		if _, err := s.AuthenticateFrom(ctx, office, "bob", "Harbor-Initial-9"); err != nil {
			t.Errorf("the office after the lock: %v, want a sign-in", err)
		}
	})
}

func TestAccountLifecycle(t *testing.T) {
	ctx := context.Background()
	t.Run("a disabled account's right password reads as a wrong one and enabling restores it", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		addBob(t, s)
		if err := s.Disable(ctx, "user:bob", "alice"); err != nil {
			t.Fatal(err)
		}
		_, disabled := s.Authenticate(ctx, "alice", "Initial-Pass1")
		_, unknown := s.Authenticate(ctx, "mallory", "Initial-Pass1")
		if !errors.Is(disabled, ErrBadCredentials) || disabled.Error() != unknown.Error() {
			t.Errorf("disabled %v, unknown %v: want one ErrBadCredentials", disabled, unknown)
		}
		if err := s.Enable(ctx, "user:bob", "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
			t.Errorf("after enable: %v", err)
		}
	})
	t.Run("the last enabled administrator cannot be disabled, deleted or demoted", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		addBob(t, s)
		for name, err := range map[string]error{
			"disable": s.Disable(ctx, "os:root", "bob"),
			"delete":  s.Delete(ctx, "os:root", "bob"),
			"demote":  s.SetRole(ctx, "os:root", "bob", RoleViewer),
		} {
			if !errors.Is(err, ErrLastAdmin) {
				t.Errorf("%s: %v, want ErrLastAdmin", name, err)
			}
		}
	})
	t.Run("an administrator cannot disable or delete their own account", func(t *testing.T) {
		s, _ := newService(t)
		addBob(t, s)
		if err := s.Disable(ctx, "user:bob", "bob"); !errors.Is(err, ErrSelf) {
			t.Errorf("disable self: %v, want ErrSelf", err)
		}
		if err := s.Delete(ctx, "user:bob", "bob"); !errors.Is(err, ErrSelf) {
			t.Errorf("delete self: %v, want ErrSelf", err)
		}
	})
	t.Run("a deleted account is gone and its name can sign in no more", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		addBob(t, s)
		if err := s.Delete(ctx, "user:bob", "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.st.User(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted user: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "user:bob", "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting again: %v, want ErrNotFound", err)
		}
	})
	t.Run("every change is audited with its actor", func(t *testing.T) {
		rec := &recordingAuditor{}
		s, _ := newService(t)
		s.audit = rec
		addAlice(t, s)
		addBob(t, s)
		rec.entries = nil
		for _, err := range []error{s.Disable(ctx, "user:bob", "alice"), s.Disable(ctx, "user:bob", "alice"),
			s.Enable(ctx, "user:bob", "alice"), s.Review(ctx, "user:bob", "alice", "still on the team"),
			s.Delete(ctx, "user:bob", "alice")} {
			if err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, e := range rec.entries {
			got = append(got, e.Actor+" "+e.Kind)
		}
		want := []string{"user:bob user_disabled", "user:bob user_enabled", "user:bob user_reviewed", "user:bob user_deleted"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestSweepInactive(t *testing.T) {
	ctx := context.Background()
	rec := &recordingAuditor{}
	s, c := newService(t)
	s.audit = rec
	addAlice(t, s)
	addBob(t, s)
	c.t = c.t.Add(InactiveAfter - time.Hour)
	if _, err := s.Authenticate(ctx, "bob", "Harbor-Initial-9"); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Hour + time.Second)
	rec.entries = nil
	n, err := s.SweepInactive(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepInactive = %d, %v; want 1, nil", n, err)
	}
	if n, _ := s.SweepInactive(ctx); n != 0 {
		t.Errorf("a second sweep disabled %d", n)
	}
	alice, _ := s.st.User(ctx, "alice")
	bob, _ := s.st.User(ctx, "bob")
	if !alice.Disabled() || alice.DisabledReason != store.DisabledInactive || bob.Disabled() {
		t.Errorf("alice %s (%s), bob %s: want alice alone disabled as inactive", alice.State(), alice.DisabledReason, bob.State())
	}
	if len(rec.entries) != 1 || rec.entries[0].Actor != actorInactivity || rec.entries[0].Details.(map[string]any)["user"] != "alice" {
		t.Errorf("audit %+v, want one user_disabled of alice by %s", rec.entries, actorInactivity)
	}
}

func TestReviewState(t *testing.T) {
	created := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		reviewed time.Time
		now      time.Time
		want     string
	}{
		{"an account created this month is current", time.Time{}, created.Add(20 * 24 * time.Hour), ReviewCurrent},
		{"an account never reviewed is due 30 days before its first year ends", time.Time{}, created.Add(ReviewEvery - 29*24*time.Hour), ReviewDue},
		{"an account never reviewed in a year is overdue", time.Time{}, created.Add(ReviewEvery), ReviewOverdue},
		{"a review restarts the year", created.Add(300 * 24 * time.Hour), created.Add(ReviewEvery + time.Hour), ReviewCurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := store.User{CreatedAt: created, ReviewedAt: tc.reviewed}
			if got := ReviewState(u, tc.now); got != tc.want {
				t.Errorf("ReviewState = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDisabledOIDCAccountIsRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	addBob(t, s)
	id := OIDCIdentity{Issuer: "https://idp.example", Subject: "sub-9", Username: "olga", FirstName: "Olga", LastName: "Ruiz", Role: RoleViewer}
	if _, _, err := s.SignInOIDC(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, "user:bob", "olga"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SignInOIDC(ctx, id); !errors.Is(err, ErrAccountLocked) {
		t.Errorf("a disabled OIDC account's sign-in: %v, want ErrAccountLocked", err)
	}
}

func TestSweepForgetsAddressesUnusedFor90Days(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	addBob(t, s)
	if _, err := s.AuthenticateFrom(ctx, "10.1.1.5", "bob", "Harbor-Initial-9"); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(InactiveAfter - time.Hour)
	if _, err := s.AuthenticateFrom(ctx, "10.9.9.9", "bob", "Harbor-Initial-9"); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if _, err := s.SweepInactive(ctx); err != nil {
		t.Fatal(err)
	}
	old, _ := s.st.UserSource(ctx, "bob", "10.1.1.5")
	recent, _ := s.st.UserSource(ctx, "bob", "10.9.9.9")
	if !old.LastSuccessAt.IsZero() || recent.LastSuccessAt.IsZero() {
		t.Errorf("after the sweep: old address %+v, recent %+v; want the old one forgotten", old, recent)
	}
}
