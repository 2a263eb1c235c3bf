package users

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/store"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// fastParams keep tests quick; production uses DefaultParams.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newService(t *testing.T) (*Service, *testClock) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acc := st
	c := &testClock{t: t0}
	s, err := New(Config{Store: acc, Params: fastParams, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func addAlice(t *testing.T, s *Service) {
	t.Helper()
	_, err := s.Add(context.Background(), NewUser{Username: "alice", FirstName: "Alice", LastName: "Moreau", Role: RoleAnalyst, Password: "Initial-Pass1"})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckRules(t *testing.T) {
	id := Identity{Username: "jdoe", FirstName: "Mary Ann", LastName: "Doe"}
	tests := []struct {
		name, pw string
		want     []string
	}{
		{"a long mixed password passes", "Blue-Harbor7", nil},
		{"three classes without symbols pass", "BlueHarbor7", nil},
		{"a short password is refused", "Ab1!", []string{"use at least 8 characters"}},
		{"two classes are refused", "blueharbor7", []string{"mix at least 3 of: lowercase letters, uppercase letters, digits, symbols"}},
		{"the first name is refused in any case", "xMARYx-99z", []string{"do not include your name or user name"}},
		{"one word of a compound first name is refused", "Ann-Harbor-7", []string{"do not include your name or user name"}},
		{"the user name is refused", "Jdoe-2025!", []string{"do not include your name or user name"}},
		{"a name shorter than three letters is not checked", "Doe", []string{"use at least 8 characters", "mix at least 3 of: lowercase letters, uppercase letters, digits, symbols", "do not include your name or user name"}},
		{"an overlong password is refused", "Aa1!" + strings.Repeat("x", 300), []string{"use at most 256 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var re *RuleError
			if err := CheckRules(tt.pw, id); errors.As(err, &re) {
				got = re.Problems
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPasswordAge(t *testing.T) {
	tests := []struct {
		name string
		age  time.Duration
		want Age
	}{
		{"a new password is fine", 0, Age{ExpiresAt: t0.Add(MaxPasswordAge)}},
		{"day 75 has no reminder yet", 75 * 24 * time.Hour, Age{ExpiresAt: t0.Add(MaxPasswordAge)}},
		{"day 76 starts the reminder", 76 * 24 * time.Hour, Age{Remind: true, ExpiresAt: t0.Add(MaxPasswordAge)}},
		{"day 90 has expired", 90 * 24 * time.Hour, Age{Expired: true, Remind: true, ExpiresAt: t0.Add(MaxPasswordAge)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PasswordAge(t0, t0.Add(tt.age))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	h1, err := Hash("Blue-Harbor7", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := Hash("Blue-Harbor7", fastParams)
	if h1 == h2 {
		t.Error("two hashes of one password are equal; the salt is not random")
	}
	tests := []struct {
		name, pw, hash string
		want           bool
		wantErr        bool
	}{
		{"the right password verifies", "Blue-Harbor7", h1, true, false},
		{"a wrong password does not", "Blue-Harbor8", h1, false, false},
		{"a bcrypt hash is refused", "x", "$2a$10$abcdefghijklmnopqrstuv", false, true},
		{"a hash asking for huge memory is refused", "x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.pw, tt.hash)
			if ok != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Verify = %v, %v; want %v, error %v", ok, err, tt.want, tt.wantErr)
			}
		})
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not PHC argon2id", h1)
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{RoleViewer, PermView, true},
		{RoleViewer, PermException, false},
		{RoleViewer, PermRecheck, false},
		{RoleAnalyst, PermRecheck, true},
		{RoleAnalyst, PermException, false},
		{RoleApprover, PermException, true},
		{RoleApprover, PermRevoke, false},
		{RoleAdmin, PermRevoke, true},
		{RoleAdmin, PermUsers, true},
		{RoleAdmin, PermException, false},
		{Role("root"), PermView, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+" may "+string(tt.perm)+" is "+map[bool]string{true: "true", false: "false"}[tt.want], func(t *testing.T) {
			if got := tt.role.Can(tt.perm); got != tt.want {
				t.Errorf("Can = %v", got)
			}
		})
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	t.Run("a new account must change its password", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		u, err := s.Authenticate(ctx, "alice", "Initial-Pass1")
		if err != nil {
			t.Fatal(err)
		}
		if !s.MustChangePassword(u) {
			t.Error("first sign-in does not force a change")
		}
		if err := s.ChangePassword(ctx, "alice", "Initial-Pass1", "Second-Pass2"); err != nil {
			t.Fatal(err)
		}
		u, err = s.Authenticate(ctx, "alice", "Second-Pass2")
		if err != nil || s.MustChangePassword(u) {
			t.Errorf("after the change: must change %v, err %v", s.MustChangePassword(u), err)
		}
	})
	t.Run("five failures lock the account until an admin unlocks it, answering as a wrong password", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		var errs []error
		for range 5 {
			_, err := s.Authenticate(ctx, "alice", "wrong")
			errs = append(errs, err)
		}
		want := []error{ErrBadCredentials, ErrBadCredentials, ErrBadCredentials, ErrBadCredentials, ErrBadCredentials}
		if diff := cmp.Diff(want, errs, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) })); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("right password on a locked account: %v, want ErrBadCredentials", err)
		}
		if err := s.Unlock(ctx, "user:admin", "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
			t.Errorf("after unlock: %v", err)
		}
	})
	t.Run("a success resets the failure count", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		for range 4 {
			s.Authenticate(ctx, "alice", "wrong")
		}
		s.Authenticate(ctx, "alice", "Initial-Pass1")
		for range 4 {
			s.Authenticate(ctx, "alice", "wrong")
		}
		if _, err := s.Authenticate(ctx, "alice", "Initial-Pass1"); err != nil {
			t.Errorf("4+4 failures with a success between locked the account: %v", err)
		}
	})
	t.Run("an unknown user gets the same error as a wrong password", func(t *testing.T) {
		s, _ := newService(t)
		if _, err := s.Authenticate(ctx, "mallory", "x"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a password past 90 days must be changed", func(t *testing.T) {
		s, c := newService(t)
		addAlice(t, s)
		s.ChangePassword(ctx, "alice", "Initial-Pass1", "Second-Pass2")
		c.t = c.t.Add(MaxPasswordAge)
		u, err := s.Authenticate(ctx, "alice", "Second-Pass2")
		if err != nil || !s.MustChangePassword(u) {
			t.Errorf("must change %v, err %v", s.MustChangePassword(u), err)
		}
	})
}

func TestPasswordHistory(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	addAlice(t, s)
	pws := []string{"Initial-Pass1", "Second-Pass2", "Third-Pass3", "Fourth-Pass4", "Fifth-Pass5", "Sixth-Pass6", "Seventh-Pass7"}
	for i := 1; i < len(pws); i++ {
		c.t = c.t.Add(time.Hour)
		if err := s.ChangePassword(ctx, "alice", pws[i-1], pws[i]); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	tests := []struct {
		name, pw string
		want     error
	}{
		{"the current password cannot be reused", "Seventh-Pass7", ErrPasswordReused},
		{"the sixth most recent cannot be reused", "Second-Pass2", ErrPasswordReused},
		{"the seventh most recent may be reused", "Initial-Pass1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ChangePassword(ctx, "alice", "Seventh-Pass7", tt.pw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil {
				c.t = c.t.Add(time.Hour)
				s.ChangePassword(ctx, "alice", tt.pw, "Seventh-Pass7")
			}
		})
	}
}

func TestAddRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		nu   NewUser
	}{
		{"an uppercase user name", NewUser{Username: "Alice", FirstName: "A", LastName: "B", Role: RoleViewer, Password: "Blue-Harbor7"}},
		{"an unknown role", NewUser{Username: "bob", FirstName: "Bob", LastName: "Li", Role: "root", Password: "Green-Field7"}},
		{"a missing last name", NewUser{Username: "bob", FirstName: "Bob", Role: RoleViewer, Password: "Green-Field7"}},
		{"a weak password", NewUser{Username: "bob", FirstName: "Bob", LastName: "Li", Role: RoleViewer, Password: "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			s, _ := newService(t)
			if _, err := s.Add(context.Background(), tt.nu); err == nil {
				t.Error("Add succeeded")
			}
		})
	}
}
