package users

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoleForTakesTheMostTrustedRole(t *testing.T) {
	m := RoleMapping{RoleViewer: {"staff"}, RoleAnalyst: {"secops"}, RoleApprover: {"ciso-office"}, RoleAdmin: {"postern-admins"}}
	tests := []struct {
		name   string
		groups []string
		want   Role
		ok     bool
	}{
		{"one group gives its role", []string{"staff"}, RoleViewer, true},
		{"the admin group wins over every other", []string{"staff", "postern-admins", "secops"}, RoleAdmin, true},
		{"the approver group wins over the analyst group", []string{"secops", "ciso-office"}, RoleApprover, true},
		{"groups without a role give none", []string{"finance", "Staff"}, "", false},
		{"no groups give none", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.RoleFor(tt.groups)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RoleFor(%q) = %q, %v, want %q, %v", tt.groups, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRoleMappingValidate(t *testing.T) {
	for name, m := range map[string]RoleMapping{
		"an empty mapping":     {},
		"an unknown role":      {"root": {"admins"}},
		"a role without group": {RoleAdmin: nil},
		"an empty group name":  {RoleAdmin: {" "}},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
	if err := (RoleMapping{RoleAdmin: {"admins"}}).Validate(); err != nil {
		t.Errorf("a good mapping: %v", err)
	}
}

func TestSignInOIDC(t *testing.T) {
	ctx := context.Background()
	id := OIDCIdentity{Issuer: "https://idp.example", Subject: "sub-1", Username: "olivia@county.example", FirstName: "Olivia", LastName: "Reyes", Role: RoleAnalyst}

	t.Run("the first sign-in creates an OIDC account without a password", func(t *testing.T) {
		s, _ := newService(t)
		u, created, err := s.SignInOIDC(ctx, id)
		if err != nil || !created {
			t.Fatalf("SignInOIDC = %v, created %v", err, created)
		}
		if !u.OIDC() || u.PasswordHash != "" || u.MustChange || u.Role != "analyst" || !u.LastLoginAt.Equal(t0) {
			t.Errorf("account = %+v", u)
		}
		if s.MustChangePassword(u) {
			t.Error("an OIDC account must never be sent to change a password")
		}
	})

	t.Run("a later sign-in finds the account and follows the provider's role", func(t *testing.T) {
		s, c := newService(t)
		if _, _, err := s.SignInOIDC(ctx, id); err != nil {
			t.Fatal(err)
		}
		// Past every password age (none applies), signing in within every
		// 90 days so that inactivity does not deactivate the account.
		for d := 80; d <= 400; d += 80 {
			c.t = t0.Add(time.Duration(d) * 24 * time.Hour)
			if _, _, err := s.SignInOIDC(ctx, id); err != nil {
				t.Fatalf("day %d: %v", d, err)
			}
		}
		next := id
		next.Role, next.Username = RoleAdmin, "renamed" // the name at the provider changed; the account stays
		u, created, err := s.SignInOIDC(ctx, next)
		if err != nil || created {
			t.Fatalf("SignInOIDC = %v, created %v", err, created)
		}
		if diff := cmp.Diff([]string{"olivia@county.example", "admin"}, []string{u.Username, u.Role}); diff != "" {
			t.Errorf("account (-want +got):\n%s", diff)
		}
		if s.MustChangePassword(u) {
			t.Error("an OIDC account must never be sent to change a password")
		}
	})

	t.Run("an identity named like a local account is refused", func(t *testing.T) {
		s, _ := newService(t)
		addAlice(t, s)
		taken := id
		taken.Username = "alice"
		if _, _, err := s.SignInOIDC(ctx, taken); !errors.Is(err, ErrNameTaken) {
			t.Errorf("SignInOIDC = %v, want ErrNameTaken", err)
		}
	})

	t.Run("another identity with the same name is refused", func(t *testing.T) {
		s, _ := newService(t)
		if _, _, err := s.SignInOIDC(ctx, id); err != nil {
			t.Fatal(err)
		}
		other := id
		other.Subject = "sub-2"
		if _, _, err := s.SignInOIDC(ctx, other); !errors.Is(err, ErrNameTaken) {
			t.Errorf("SignInOIDC = %v, want ErrNameTaken", err)
		}
	})

	t.Run("a user name the dashboard cannot hold is refused", func(t *testing.T) {
		s, _ := newService(t)
		bad := id
		bad.Username = "Olivia Reyes"
		if _, _, err := s.SignInOIDC(ctx, bad); err == nil {
			t.Error("SignInOIDC accepted a user name with a space and capitals")
		}
	})

	t.Run("passwords never open an OIDC account, nor lock it", func(t *testing.T) {
		s, _ := newService(t)
		if _, _, err := s.SignInOIDC(ctx, id); err != nil {
			t.Fatal(err)
		}
		for range LockAfter + 2 {
			if _, err := s.Authenticate(ctx, id.Username, ""); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("Authenticate = %v, want ErrBadCredentials", err)
			}
		}
		u, _, err := s.SignInOIDC(ctx, id)
		if err != nil || u.Locked() {
			t.Errorf("after password guesses: SignInOIDC = %v, locked %v", err, u.Locked())
		}
		if _, err := s.ResetPassword(ctx, "user:ana", id.Username); !errors.Is(err, ErrOIDCAccount) {
			t.Errorf("ResetPassword = %v, want ErrOIDCAccount", err)
		}
	})
}
