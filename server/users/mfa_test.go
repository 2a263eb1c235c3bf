package users

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// newMFAService is newService with an MFA key and an audit log.
func newMFAService(t *testing.T) (*Service, *testClock, store.Store) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &testClock{t: t0}
	key, err := LoadOrCreateMFAKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Audit: audit.New(st, c.now, nil), Params: fastParams, Now: c.now, MFAKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, st
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolTOTP sets up TOTP for alice and returns the secret and her
// recovery codes.
func enrolTOTP(t *testing.T, s *Service, c *testClock) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := s.BeginTOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := s.ConfirmTOTP(ctx, "alice", code(t, e.Secret, c.t))
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

func auditKinds(t *testing.T, st store.Store) []string {
	t.Helper()
	rows, err := st.AuditRows(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind)
	}
	return out
}

func TestTOTP(t *testing.T) {
	ctx := context.Background()
	f := SecondFactor{Source: "192.0.2.4", Username: "alice"}

	t.Run("the secret is sealed in the database", func(t *testing.T) {
		s, c, st := newMFAService(t)
		addAlice(t, s)
		secret, _ := enrolTOTP(t, s, c)
		m, err := st.UserMFA(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.TOTPSecret, secret) || !strings.HasPrefix(m.TOTPSecret, "v1:") {
			t.Errorf("stored secret %q holds the secret in the clear", m.TOTPSecret)
		}
	})
	t.Run("a sealed secret moved to another account does not open", func(t *testing.T) {
		s, c, st := newMFAService(t)
		addAlice(t, s)
		addBob(t, s)
		enrolTOTP(t, s, c)
		m, _ := st.UserMFA(ctx, "alice")
		if err := st.SetTOTPSecret(ctx, "bob", m.TOTPSecret); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PendingTOTP(ctx, "bob"); err == nil {
			t.Error("alice's sealed secret opened as bob's")
		}
	})
	t.Run("the confirming code cannot sign in, the next step's can, once", func(t *testing.T) {
		s, c, _ := newMFAService(t)
		addAlice(t, s)
		secret, codes := enrolTOTP(t, s, c)
		if len(codes) != RecoveryCodeCount {
			t.Fatalf("%d recovery codes at enrolment, want %d", len(codes), RecoveryCodeCount)
		}
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t)); !errors.Is(err, ErrBadCode) {
			t.Errorf("the confirming code again: %v, want ErrBadCode", err)
		}
		c.t = c.t.Add(30 * time.Second)
		next := code(t, secret, c.t)
		if err := s.VerifyTOTP(ctx, f, next); err != nil {
			t.Fatalf("the next step's code: %v", err)
		}
		if err := s.VerifyTOTP(ctx, f, next); !errors.Is(err, ErrBadCode) {
			t.Errorf("the same code replayed in its window: %v, want ErrBadCode", err)
		}
	})
	t.Run("a phone one step behind or ahead is accepted, two is not", func(t *testing.T) {
		s, c, _ := newMFAService(t)
		addAlice(t, s)
		secret, _ := enrolTOTP(t, s, c)
		c.t = c.t.Add(10 * time.Minute)
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t.Add(-60*time.Second))); !errors.Is(err, ErrBadCode) {
			t.Errorf("two steps behind: %v, want ErrBadCode", err)
		}
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t.Add(-30*time.Second))); err != nil {
			t.Errorf("one step behind: %v", err)
		}
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t.Add(30*time.Second))); err != nil {
			t.Errorf("one step ahead: %v", err)
		}
		// The step ahead was accepted: the current step is now old.
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t)); !errors.Is(err, ErrBadCode) {
			t.Errorf("a step before the last accepted: %v, want ErrBadCode", err)
		}
	})
	t.Run("wrong codes lock the account like wrong passwords; a right password does not reset the count", func(t *testing.T) {
		s, c, st := newMFAService(t)
		addAlice(t, s)
		secret, _ := enrolTOTP(t, s, c)
		for i := range LockAfter {
			if _, err := s.PasswordFrom(ctx, "", "alice", "Initial-Pass1"); err != nil {
				t.Fatalf("password %d: %v", i, err)
			}
			s.VerifyTOTP(ctx, SecondFactor{Username: "alice"}, "000000")
		}
		u, _ := st.User(ctx, "alice")
		if !u.Locked() {
			t.Fatalf("after %d wrong codes the account is not locked (failures %d)", LockAfter, u.FailedAttempts)
		}
		c.t = c.t.Add(30 * time.Second)
		if err := s.VerifyTOTP(ctx, f, code(t, secret, c.t)); !errors.Is(err, ErrBadCode) {
			t.Errorf("a right code on a locked account: %v, want ErrBadCode", err)
		}
		kinds := strings.Join(auditKinds(t, st), " ")
		if strings.Count(kinds, audit.KindMFARefused) != LockAfter {
			t.Errorf("audit %q: want %d %s rows", kinds, LockAfter, audit.KindMFARefused)
		}
	})
	t.Run("setting up again while it is on is refused", func(t *testing.T) {
		s, c, _ := newMFAService(t)
		addAlice(t, s)
		enrolTOTP(t, s, c)
		if _, err := s.BeginTOTP(ctx, "alice"); !errors.Is(err, ErrTOTPEnabled) {
			t.Errorf("BeginTOTP with TOTP on: %v, want ErrTOTPEnabled", err)
		}
	})
	t.Run("without a key TOTP is unavailable", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		if _, err := s.BeginTOTP(ctx, "alice"); !errors.Is(err, ErrNoMFAKey) {
			t.Errorf("BeginTOTP without a key: %v, want ErrNoMFAKey", err)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	f := SecondFactor{Source: "192.0.2.4", Username: "alice"}
	s, c, st := newMFAService(t)
	addAlice(t, s)
	_, codes := enrolTOTP(t, s, c)
	seen := map[string]bool{}
	for _, cd := range codes {
		if len(cd) != 19 || seen[cd] {
			t.Fatalf("code %q: want 16 symbols in four groups, all different", cd)
		}
		seen[cd] = true
	}
	left, err := s.UseRecoveryCode(ctx, f, strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")))
	if err != nil || left != RecoveryCodeCount-1 {
		t.Fatalf("a code typed in capitals with spaces: left %d, %v", left, err)
	}
	if _, err := s.UseRecoveryCode(ctx, f, codes[0]); !errors.Is(err, ErrBadCode) {
		t.Errorf("a used code: %v, want ErrBadCode", err)
	}
	fresh, err := s.NewRecoveryCodes(ctx, "user:alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseRecoveryCode(ctx, f, codes[1]); !errors.Is(err, ErrBadCode) {
		t.Errorf("an old code after regeneration: %v, want ErrBadCode", err)
	}
	if _, err := s.UseRecoveryCode(ctx, f, fresh[0]); err != nil {
		t.Errorf("a new code: %v", err)
	}
	kinds := strings.Join(auditKinds(t, st), " ")
	for _, k := range []string{audit.KindMFAEnrolled, audit.KindRecoveryCodesCreated, audit.KindRecoveryCodeUsed} {
		if !strings.Contains(kinds, k) {
			t.Errorf("audit %q lacks %s", kinds, k)
		}
	}
}

func TestMFAResetAndRequirement(t *testing.T) {
	ctx := context.Background()
	s, c, st := newMFAService(t)
	addAlice(t, s)
	enrolTOTP(t, s, c)
	if on, _ := s.MFARequired(ctx); on {
		t.Fatal("MFA required by default")
	}
	if err := s.SetMFARequired(ctx, "user:root", true); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.MFARequired(ctx); !on {
		t.Error("the requirement did not stick")
	}
	if err := s.ResetMFA(ctx, "user:root", "alice"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.MFAStatus(ctx, "alice"); m.Enrolled() || m.RecoveryCodes != 0 {
		t.Errorf("after a reset: %+v", m)
	}
	if err := s.ResetMFA(ctx, "user:root", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reset of an unknown user: %v", err)
	}
	kinds := strings.Join(auditKinds(t, st), " ")
	for _, k := range []string{audit.KindMFARequirement, audit.KindMFAReset} {
		if !strings.Contains(kinds, k) {
			t.Errorf("audit %q lacks %s", kinds, k)
		}
	}
}

func TestMFAKeyFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateMFAKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, MFAKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateMFAKey(dir)
	if err != nil || string(k1) != string(k2) {
		t.Errorf("second load gave another key (%v)", err)
	}
	os.Chmod(filepath.Join(dir, MFAKeyFile), 0o644)
	if _, err := LoadOrCreateMFAKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key: %v, want refused", err)
	}
}

func TestMFARequiredByConfig(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, Params: fastParams, Now: (&testClock{t: t0}).now, RequireMFA: true})
	if err != nil {
		t.Fatal(err)
	}
	if on, err := s.MFARequired(ctx); err != nil || !on {
		t.Errorf("MFARequired = %v, %v; want true from the configuration", on, err)
	}
	if err := s.SetMFARequired(ctx, "user:root", false); !errors.Is(err, ErrMFAConfigured) {
		t.Errorf("switching off a configured requirement: %v, want ErrMFAConfigured", err)
	}
}

func TestCheckMFAKey(t *testing.T) {
	ctx := context.Background()
	s, c, st := newMFAService(t)
	other, err := LoadOrCreateMFAKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMFAKey(ctx, st, other); err != nil {
		t.Errorf("a database without TOTP secrets: %v", err)
	}
	addAlice(t, s)
	enrolTOTP(t, s, c)
	if err := CheckMFAKey(ctx, st, other); err == nil || !strings.Contains(err.Error(), "copy mfa.key") {
		t.Errorf("another server's key: %v, want refused naming mfa.key", err)
	}
}
