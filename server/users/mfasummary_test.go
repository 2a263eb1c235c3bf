package users

import (
	"context"
	"testing"

	"github.com/postern-dev/postern/server/store"
)

func TestMFAStateSummaries(t *testing.T) {
	tests := []struct {
		st   MFAStatus
		want string
	}{
		{MFAStatus{}, "none"},
		{MFAStatus{RecoveryCodes: 10}, "none"},
		{MFAStatus{TOTP: true, RecoveryCodes: 10}, "authenticator app"},
		{MFAStatus{SecurityKeys: 1}, "1 security key"},
		{MFAStatus{TOTP: true, SecurityKeys: 2}, "authenticator app, 2 security keys"},
	}
	for _, tt := range tests {
		if got := tt.st.Summary(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.st, got, tt.want)
		}
	}
}

func TestMFAStateOfAccounts(t *testing.T) {
	ctx := context.Background()
	s, c, st := newMFAService(t)
	addAlice(t, s)
	alice, err := st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.MFAState(ctx, alice); got != MFAStateNone || err != nil {
		t.Errorf("before enrolling: %q, %v; want none", got, err)
	}
	enrolTOTP(t, s, c)
	if got, status, err := s.MFAState(ctx, alice); got != "authenticator app" || !status.TOTP || status.RecoveryCodes != RecoveryCodeCount || err != nil {
		t.Errorf("after enrolling: %q %+v, %v; want the app and its recovery codes", got, status, err)
	}
	sso := store.User{Username: "oli", OIDCIssuer: "https://idp.example", OIDCSubject: "1234"}
	if got, _, err := s.MFAState(ctx, sso); got != MFAStateSSO || err != nil {
		t.Errorf("single sign-on account: %q, %v", got, err)
	}
	// An unreadable store is unknown with the reason, never none.
	st.Close()
	if got, _, err := s.MFAState(ctx, alice); got != MFAStateUnknown || err == nil {
		t.Errorf("unreadable second factors: %q, %v; want unknown and an error", got, err)
	}
}
