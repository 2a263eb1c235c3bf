package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSecondFactors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if err := s.CreateUser(ctx, User{Username: "ana", FirstName: "Ana", LastName: "Ruiz", Role: "admin", PasswordHash: "h", PasswordChangedAt: at, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserMFA(ctx, "ana"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an account without factors: %v, want ErrNotFound", err)
		}

		t.Run("a TOTP step is accepted once, and never one before it", func(t *testing.T) {
			if err := s.SetTOTPSecret(ctx, "ana", "sealed"); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.UseTOTPStep(ctx, "ana", 100); err != nil || ok {
				t.Fatalf("a step before confirmation: ok=%v err=%v, want refused", ok, err)
			}
			if err := s.EnableTOTP(ctx, "ana", at, 100); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				step int64
				want bool
			}{{100, false}, {101, true}, {101, false}, {99, false}, {103, true}} {
				if ok, err := s.UseTOTPStep(ctx, "ana", c.step); err != nil || ok != c.want {
					t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", c.step, ok, err, c.want)
				}
			}
			m, err := s.UserMFA(ctx, "ana")
			if err != nil || m.TOTPSecret != "sealed" || !m.TOTPEnabledAt.Equal(at) || m.TOTPLastStep != 103 {
				t.Errorf("UserMFA = %+v, %v", m, err)
			}
		})

		t.Run("a recovery code is good once and regeneration drops the old ones", func(t *testing.T) {
			if err := s.ReplaceRecoveryCodes(ctx, "ana", []string{"a", "b", "c"}, at); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.UseRecoveryCode(ctx, "ana", "b", at); err != nil || !ok {
				t.Fatalf("first use: %v %v", ok, err)
			}
			if ok, _ := s.UseRecoveryCode(ctx, "ana", "b", at); ok {
				t.Error("a used code was accepted again")
			}
			if n, _ := s.RecoveryCodesLeft(ctx, "ana"); n != 2 {
				t.Errorf("codes left %d, want 2", n)
			}
			if err := s.ReplaceRecoveryCodes(ctx, "ana", []string{"d"}, at); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.UseRecoveryCode(ctx, "ana", "a", at); ok {
				t.Error("a code from before regeneration was accepted")
			}
		})

		t.Run("credentials, the user handle and a reset", func(t *testing.T) {
			id, err := s.SetWebAuthnID(ctx, "ana", "h1")
			if err != nil || id != "h1" {
				t.Fatalf("SetWebAuthnID = %q, %v", id, err)
			}
			if id, _ := s.SetWebAuthnID(ctx, "ana", "h2"); id != "h1" {
				t.Errorf("the user handle changed to %q", id)
			}
			c := WebAuthnCredential{ID: "c1", Username: "ana", Name: "key", RPID: "localhost", Data: "{}", CreatedAt: at}
			if err := s.AddWebAuthnCredential(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.AddWebAuthnCredential(ctx, c); !errors.Is(err, ErrConflict) {
				t.Errorf("a duplicate credential: %v, want ErrConflict", err)
			}
			if err := s.UpdateWebAuthnCredential(ctx, "c1", `{"n":1}`, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			cs, err := s.WebAuthnCredentials(ctx, "ana")
			if err != nil || len(cs) != 1 || cs[0].Data != `{"n":1}` || !cs[0].LastUsedAt.Equal(at.Add(time.Hour)) {
				t.Fatalf("credentials %+v, %v", cs, err)
			}
			if err := s.CreateMFAChallenge(ctx, MFAChallenge{IDHash: "x", Username: "ana", Purpose: "verify", CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if err := s.ResetMFA(ctx, "ana"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.UserMFA(ctx, "ana"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after a reset: %v, want ErrNotFound", err)
			}
			if cs, _ := s.WebAuthnCredentials(ctx, "ana"); len(cs) != 0 {
				t.Errorf("after a reset %d credentials remain", len(cs))
			}
			if _, err := s.MFAChallenge(ctx, "x", at); !errors.Is(err, ErrNotFound) {
				t.Errorf("after a reset the challenge remains: %v", err)
			}
		})

		t.Run("a challenge expires", func(t *testing.T) {
			c := MFAChallenge{IDHash: "y", Username: "ana", Purpose: "verify", CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute)}
			if err := s.CreateMFAChallenge(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MFAChallenge(ctx, "y", at.Add(4*time.Minute)); err != nil {
				t.Errorf("a live challenge: %v", err)
			}
			if _, err := s.MFAChallenge(ctx, "y", at.Add(5*time.Minute)); !errors.Is(err, ErrNotFound) {
				t.Errorf("an expired challenge: %v, want ErrNotFound", err)
			}
			if n, err := s.DeleteExpiredMFAChallenges(ctx, at.Add(5*time.Minute)); err != nil || n != 1 {
				t.Errorf("DeleteExpiredMFAChallenges = %d, %v", n, err)
			}
		})
	})
}
