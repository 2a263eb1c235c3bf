package dashboard

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/postern-dev/postern/server/users"
)

// A session left open (cookie and CSRF token, no password) can neither
// take a fresh set of recovery codes, which would be a second factor in
// the wrong hands, nor strip a security key off the account; with the
// password both work.
func TestSessionAloneCannotChangeSecondFactors(t *testing.T) {
	e := newMFAEnv(t, dashHost)
	e.addUser("ana", users.RoleAnalyst)
	owner := e.signIn("ana").via(dashHost)
	key := newSoftKey(t, "https://"+dashHost)
	if r := registerKey(t, owner, key); r.status != http.StatusOK {
		t.Fatalf("register a key: %d", r.status)
	}
	keyID := func() string {
		t.Helper()
		keys, err := e.st.WebAuthnCredentials(t.Context(), "ana")
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys: %d, %v", len(keys), err)
		}
		return keys[0].ID
	}
	id := keyID()
	csrf := owner.csrf("/ui/account")
	tests := []struct {
		name, path, password string
	}{
		{"new recovery codes", "/ui/account/recovery-codes", ""},
		{"removing the security key", "/ui/account/keys/" + url.PathEscape(id) + "/remove", "not-her-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" without the password is refused", func(t *testing.T) {
			// Each wrong password counts as a failed sign-in (a lock
			// would end the session): one per case.
			r := owner.post(tt.path, url.Values{"csrf": {csrf}, "password": {tt.password}})
			if r.status != http.StatusUnprocessableEntity || len(codesRE.FindAllString(r.body, -1)) != 0 {
				t.Errorf("password %q: %d, %d codes shown; want 422 and none", tt.password, r.status, len(codesRE.FindAllString(r.body, -1)))
			}
			keyID()
		})
	}
	if r := owner.post("/ui/account/recovery-codes", url.Values{"csrf": {csrf}, "password": {ownPassword}}); r.status != http.StatusOK ||
		len(codesRE.FindAllString(r.body, -1)) != users.RecoveryCodeCount {
		t.Errorf("new recovery codes with the password: %d", r.status)
	}
	if r := owner.post("/ui/account/keys/"+url.PathEscape(id)+"/remove", url.Values{"csrf": {csrf}, "password": {ownPassword}}); r.status != http.StatusSeeOther {
		t.Errorf("remove the key with the password: %d", r.status)
	}
}
