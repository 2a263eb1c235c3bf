package dashboard

import (
	"regexp"
	"testing"

	"github.com/postern-dev/postern/server/users"
)

// mfaCell is a user's row's second-factor cell on the users page.
func mfaCell(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr id="user-` + regexp.QuoteMeta(name) + `">.*?<td class="mfa">(.*?)</td>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no second-factor cell for %s on the users page", name)
	}
	return m[1]
}

func TestUsersPageShowsSecondFactors(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("bo", users.RoleAdmin)
	e.addUser("ana", users.RoleAnalyst)
	admin := e.signIn("bo")
	e.enrolTOTP(e.signIn("ana"))
	page := admin.get("/ui/users").body
	if got, want := mfaCell(t, page, "bo"), `<span class="badge s-stale">None</span>`; got != want {
		t.Errorf("an account without a second factor: %q, want %q", got, want)
	}
	if got, want := mfaCell(t, page, "ana"), "authenticator app"; got != want {
		t.Errorf("an account with an app: %q, want %q", got, want)
	}
}
