package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/users"
)

func TestGuessingTheCurrentPasswordLocksAndEndsTheSession(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("dave", users.RoleViewer)
	c := e.signIn("dave")
	tok := c.csrf("/ui/password")
	var last resp
	for range users.LockAfter {
		last = c.post("/ui/password", url.Values{"csrf": {tok}, "current": {"guess"}, "new": {"Other-Harbor-42"}, "confirm": {"Other-Harbor-42"}})
	}
	if last.status != http.StatusSeeOther || last.location != "/ui/login" {
		t.Fatalf("fifth wrong current password: %d %q, want a redirect to /ui/login", last.status, last.location)
	}
	if r := c.get("/ui/devices"); r.status == http.StatusOK || !strings.HasPrefix(r.location, "/ui/login") {
		t.Errorf("the session outlived the lock: %d %q", r.status, r.location)
	}
}
