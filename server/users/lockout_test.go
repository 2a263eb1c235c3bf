package users

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

func TestLockout(t *testing.T) {
	ctx := context.Background()
	t.Run("a stranger's lock on an admin lifts itself after 30 minutes", func(t *testing.T) {
		s, c := newService(t)
		addAlice(t, s)
		for range LockAfter {
			s.AuthenticateFrom(ctx, "203.0.113.9", "alice", "guess")
		}
		if _, err := s.AuthenticateFrom(ctx, "10.1.1.5", "alice", "Initial-Pass1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("right password during the lock: %v, want ErrBadCredentials", err)
		}
		c.t = c.t.Add(DefaultLockFor - time.Second)
		if _, err := s.AuthenticateFrom(ctx, "10.1.1.5", "alice", "Initial-Pass1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("a second before the lock ends: %v, want ErrBadCredentials", err)
		}
		c.t = c.t.Add(time.Second)
		if _, err := s.AuthenticateFrom(ctx, "10.1.1.5", "alice", "Initial-Pass1"); err != nil {
			t.Fatalf("when the lock ends: %v, want a sign-in", err)
		}
	})
	t.Run("after an expired lock the count starts again", func(t *testing.T) {
		s, c := newService(t)
		addAlice(t, s)
		for range LockAfter {
			s.Authenticate(ctx, "alice", "guess")
		}
		c.t = c.t.Add(DefaultLockFor)
		s.Authenticate(ctx, "alice", "guess")
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
			t.Errorf("one failure after an expired lock locked again: %v", err)
		}
	})
	t.Run("a locked account, an unknown name and a wrong password give one answer", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		for range LockAfter {
			s.Authenticate(ctx, "alice", "guess")
		}
		_, locked := s.Authenticate(ctx, "alice", "Initial-Pass1")
		_, unknown := s.Authenticate(ctx, "mallory", "Initial-Pass1")
		addBob(t, s)
		_, wrong := s.Authenticate(ctx, "bob", "nope")
		if locked.Error() != unknown.Error() || unknown.Error() != wrong.Error() {
			t.Errorf("locked %q, unknown %q, wrong %q: want one message", locked, unknown, wrong)
		}
	})
	t.Run("one source address is throttled across accounts without locking them", func(t *testing.T) {
		s, c := newService(t)
		addAlice(t, s)
		addBob(t, s)
		// Name enumeration from one address: ten guesses over many names.
		for i := range SourceFailures {
			s.AuthenticateFrom(ctx, "198.51.100.7", fmt.Sprintf("user%d", i), "guess")
		}
		if _, err := s.AuthenticateFrom(ctx, "198.51.100.7", "alice", "Initial-Pass1"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("a throttled address with the right password: %v, want ErrBadCredentials", err)
		}
		for range 20 {
			s.AuthenticateFrom(ctx, "198.51.100.7", "bob", "guess")
		}
		if _, err := s.AuthenticateFrom(ctx, "10.1.1.6", "bob", "Harbor-Initial-9"); err != nil {
			t.Errorf("a throttled address's guesses locked bob for everyone: %v", err)
		}
		c.t = c.t.Add(DefaultLockFor)
		if _, err := s.AuthenticateFrom(ctx, "198.51.100.7", "alice", "Initial-Pass1"); err != nil {
			t.Errorf("the address after the window: %v, want a sign-in", err)
		}
	})
	t.Run("a configured lock time is kept", func(t *testing.T) {
		s, c := newService(t)
		s.lockFor = 5 * time.Minute
		addAlice(t, s)
		for range LockAfter {
			s.Authenticate(ctx, "alice", "guess")
		}
		c.t = c.t.Add(5 * time.Minute)
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
			t.Errorf("after the configured 5 minutes: %v", err)
		}
	})
}

func addBob(t *testing.T, s *Service) {
	t.Helper()
	if _, err := s.Add(context.Background(), NewUser{Username: "bob", FirstName: "Bob", LastName: "Lenz", Role: RoleAdmin, Password: "Harbor-Initial-9"}); err != nil {
		t.Fatal(err)
	}
}

func TestInactivity(t *testing.T) {
	ctx := context.Background()
	rec := &recordingAuditor{}
	s, c := newService(t)
	s.audit = rec
	addAlice(t, s)
	if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(InactiveAfter)
	if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
		t.Fatalf("after exactly 90 days: %v, want a sign-in", err)
	}
	c.t = c.t.Add(InactiveAfter + time.Second)
	if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after 90 days and a second without sign-in: %v, want ErrBadCredentials", err)
	}
	if got := rec.kinds(); len(got) == 0 || got[len(got)-1] != "user_disabled" {
		t.Errorf("audited %v, want user_disabled last", got)
	}
	if u, _ := s.st.User(ctx, "alice"); !u.Disabled() || u.DisabledReason != store.DisabledInactive {
		t.Errorf("after the refused sign-in: %+v, want disabled as inactive", u)
	}
	pw, err := s.ResetPassword(ctx, "user:admin", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "alice", pw); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a reset alone enabled the account: %v", err)
	}
	if err := s.Enable(ctx, "user:admin", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "alice", pw); err != nil {
		t.Errorf("after an administrator's enable: %v, want a sign-in", err)
	}
}

// recordingAuditor keeps the kinds of the entries appended.
type recordingAuditor struct{ entries []audit.Entry }

func (r *recordingAuditor) Append(_ context.Context, e audit.Entry) (store.AuditRow, error) {
	r.entries = append(r.entries, e)
	return store.AuditRow{}, nil
}

func (r *recordingAuditor) kinds() []string {
	var out []string
	for _, e := range r.entries {
		out = append(out, e.Kind)
	}
	return out
}
