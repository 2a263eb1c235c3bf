package users

import (
	"context"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/server/store"
)

// MFA states of an account in lists (the users page, `user list`).
const (
	MFAStateNone    = "none"
	MFAStateSSO     = "single sign-on"
	MFAStateUnknown = "unknown"
)

// Summary says which second factors an account has: "authenticator
// app", "authenticator app, 2 security keys", "1 security key" or
// "none". Recovery codes stand in for a factor and are not one.
func (m MFAStatus) Summary() string {
	var parts []string
	if m.TOTP {
		parts = append(parts, "authenticator app")
	}
	switch {
	case m.SecurityKeys == 1:
		parts = append(parts, "1 security key")
	case m.SecurityKeys > 1:
		parts = append(parts, fmt.Sprintf("%d security keys", m.SecurityKeys))
	}
	if len(parts) == 0 {
		return MFAStateNone
	}
	return strings.Join(parts, ", ")
}

// MFAState is u's second factors as lists show them: Summary for a
// local account, MFAStateSSO for an account of the identity provider
// (which keeps its second factors), MFAStateUnknown with the error when
// they could not be read, never "none" for want of an answer.
func (s *Service) MFAState(ctx context.Context, u store.User) (string, MFAStatus, error) {
	if u.OIDC() {
		return MFAStateSSO, MFAStatus{}, nil
	}
	st, err := s.MFAStatus(ctx, u.Username)
	if err != nil {
		return MFAStateUnknown, MFAStatus{}, fmt.Errorf("read second factors of %s: %w", u.Username, err)
	}
	return st.Summary(), st, nil
}
