package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// Errors of SignInOIDC.
var (
	// ErrNoRole: none of the identity's groups maps to a role.
	ErrNoRole = errors.New("no group of this identity has a role")
	// ErrNameTaken: the identity's user name belongs to another account
	// (a local one, or another identity's), which single sign-on must
	// never take over.
	ErrNameTaken = errors.New("the user name belongs to another account")
	// ErrAccountLocked: the account exists but may not sign in now
	// (locked, disabled, or deactivated after 90 days unused).
	ErrAccountLocked = errors.New("the account is locked")
	// ErrOIDCAccount: the account signs in through its OpenID provider and
	// has no password to check, change or reset.
	ErrOIDCAccount = errors.New("the account signs in through single sign-on and has no password")
	// ErrInvalidUsername: the identity's user name cannot name an account
	// (ValidUsername).
	ErrInvalidUsername = errors.New("invalid user name")
)

// ActorOIDC is the audit actor of what single sign-on does by itself:
// just-in-time accounts and role changes the provider's groups made.
const ActorOIDC = "system:oidc"

// RoleMapping gives the groups (values of the provider's groups claim)
// that grant each role.
type RoleMapping map[Role][]string

// Validate checks that every role is known and names at least one group.
func (m RoleMapping) Validate() error {
	if len(m) == 0 {
		return errors.New("no role is mapped to a group")
	}
	for r, groups := range m {
		if _, err := ParseRole(string(r)); err != nil {
			return err
		}
		if len(groups) == 0 {
			return fmt.Errorf("role %s: no group", r)
		}
		for _, g := range groups {
			if strings.TrimSpace(g) == "" {
				return fmt.Errorf("role %s: an empty group name", r)
			}
		}
	}
	return nil
}

// RoleFor returns the most trusted role (in the order of Roles) any of
// groups grants, and false when none does.
func (m RoleMapping) RoleFor(groups []string) (Role, bool) {
	for i := len(Roles) - 1; i >= 0; i-- {
		for _, want := range m[Roles[i]] {
			for _, g := range groups {
				if g == want {
					return Roles[i], true
				}
			}
		}
	}
	return "", false
}

// OIDCIdentity is who the provider's verified ID token says signs in,
// and the role its groups map to.
type OIDCIdentity struct {
	Issuer, Subject     string
	Username            string
	FirstName, LastName string
	Role                Role
}

// SignInOIDC signs in the account made for id's issuer and subject,
// creating it on the identity's first sign-in (an OIDC account: no
// password, no password rules or age). The role always follows id.Role,
// so a change of groups at the provider applies at the next sign-in;
// the change is audited. The account is found by issuer and subject,
// never by name: an identity whose user name is another account's is
// refused (ErrNameTaken). created reports a new account.
func (s *Service) SignInOIDC(ctx context.Context, id OIDCIdentity) (u store.User, created bool, err error) {
	if id.Issuer == "" || id.Subject == "" {
		return store.User{}, false, errors.New("sign in with OIDC: issuer and subject are required")
	}
	if _, err := ParseRole(string(id.Role)); err != nil {
		return store.User{}, false, err
	}
	now := s.now()
	u, err = s.st.UserByOIDC(ctx, id.Issuer, id.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if u, err = s.createOIDC(ctx, id); err != nil {
			return store.User{}, false, err
		}
		created = true
	case err != nil:
		return store.User{}, false, err
	}
	if u.Locked() || u.Disabled() {
		return store.User{}, false, ErrAccountLocked
	}
	if !created && Inactive(u, now) {
		// Unused for 90 days: deactivated now if the sweep has not yet.
		if _, err := s.deactivate(ctx, u, now); err != nil {
			return store.User{}, false, err
		}
		return store.User{}, false, ErrAccountLocked
	}
	if !created && u.Role != string(id.Role) {
		if err := s.st.SetRole(ctx, u.Username, string(id.Role)); err != nil {
			return store.User{}, false, err
		}
		s.log.Info("user role changed by identity provider groups", "user", u.Username, "from", u.Role, "to", string(id.Role))
		if err := s.record(ctx, ActorOIDC, audit.KindUserRoleChanged, map[string]any{"user": u.Username, "from": u.Role,
			"to": string(id.Role), "reason": "identity provider groups"}); err != nil {
			return store.User{}, false, err
		}
		u.Role = string(id.Role)
	}
	if err := s.st.RecordLogin(ctx, u.Username, now); err != nil {
		return store.User{}, false, err
	}
	u.LastLoginAt, u.FailedAttempts = now, 0
	return u, created, nil
}

func (s *Service) createOIDC(ctx context.Context, id OIDCIdentity) (store.User, error) {
	if !ValidUsername(id.Username) {
		return store.User{}, fmt.Errorf("%w %q from the identity provider: use 1 to 64 lowercase letters, digits, '.', '_', '@' or '-'", ErrInvalidUsername, id.Username)
	}
	first, last := oidcName(id.FirstName, id.Username), oidcName(id.LastName, "-")
	now := s.now()
	u := store.User{Username: id.Username, FirstName: first, LastName: last, Role: string(id.Role),
		PasswordChangedAt: now, CreatedAt: now, OIDCIssuer: id.Issuer, OIDCSubject: id.Subject}
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.User{}, ErrNameTaken
		}
		return store.User{}, err
	}
	s.log.Info("user created by single sign-on", "user", u.Username, "role", u.Role, "issuer", id.Issuer)
	return u, s.record(ctx, ActorOIDC, audit.KindUserCreated, map[string]any{"user": u.Username, "role": u.Role,
		"oidc_issuer": id.Issuer, "oidc_subject": id.Subject})
}

// oidcName is a provider's name claim as an account name: trimmed, at
// most 100 characters, def when empty or not text.
func oidcName(s, def string) string {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) {
		return def
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return s
}
