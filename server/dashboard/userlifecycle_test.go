package dashboard

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

var resetPasswordRE = regexp.MustCompile(`<code class="token" id="reset-password">([^<]+)</code>`)

func TestUserLifecycleOnTheDashboard(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin)
	e.addUser("carl", users.RoleAnalyst)
	e.addUser("viewer", users.RoleViewer)
	csrf := func(c *client) url.Values { return url.Values{"csrf": {c.csrf("/ui/password")}} }
	// Each browser here keeps its own cookies (env.client shares one jar).
	browser := func() *client {
		jar, _ := cookiejar.New(nil)
		hc := *e.srv.Client()
		hc.Jar = jar
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &client{e: e, http: &hc}
	}
	// pw is each account's current password; fresh gives it a new one,
	// which is also a sign-in: the year of reviews passes with neither
	// password ages nor inactivity in the way.
	pw := map[string]string{"admin": ownPassword, "carl": ownPassword, "viewer": ownPassword}
	n := 0
	fresh := func(name string) {
		t.Helper()
		n++
		next := fmt.Sprintf("Harbor-Lights-%d!", 100+n)
		if err := e.users.ChangePassword(ctx, name, pw[name], next); err != nil {
			t.Fatal(err)
		}
		pw[name] = next
	}
	// advance moves the clock by d in steps short of 90 days, the named
	// accounts signing in at each.
	advance := func(d time.Duration, names ...string) {
		t.Helper()
		for d > 0 {
			step := min(d, 80*24*time.Hour)
			e.clock.Add(step)
			d -= step
			for _, name := range names {
				fresh(name)
			}
		}
	}
	signIn := func(name string) *client {
		t.Helper()
		c := browser()
		r := c.post("/ui/login", url.Values{"username": {name}, "password": {pw[name]}})
		if r.status != http.StatusSeeOther || r.location != "/ui/" {
			t.Fatalf("sign in %s: %d %s", name, r.status, r.location)
		}
		return c
	}

	t.Run("disabling ends the account's open session at once", func(t *testing.T) {
		carl := signIn("carl")
		admin := signIn("admin")
		if r := admin.post("/ui/users/carl/disable", csrf(admin)); r.status != http.StatusSeeOther {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := carl.get("/ui/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/ui/login") {
			t.Errorf("carl's session after disable: %d %s, want a redirect to sign in", r.status, r.location)
		}
		r := browser().post("/ui/login", url.Values{"username": {"carl"}, "password": {ownPassword}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong user name or password") {
			t.Errorf("a disabled account's right password: %d, want the wrong-password page", r.status)
		}
		if body := admin.get("/ui/users").body; !strings.Contains(body, "Disabled") || !strings.Contains(body, "/ui/users/carl/enable") {
			t.Error("the users page does not show carl disabled with an Enable button")
		}
	})
	t.Run("enabling lets the account sign in again", func(t *testing.T) {
		admin := signIn("admin")
		if r := admin.post("/ui/users/carl/enable", csrf(admin)); r.status != http.StatusSeeOther {
			t.Fatalf("enable: %d", r.status)
		}
		signIn("carl")
	})
	t.Run("a reset ends the account's sessions and forces a change at the next sign-in", func(t *testing.T) {
		carl := signIn("carl")
		admin := signIn("admin")
		r := admin.post("/ui/users/carl/reset-password", csrf(admin))
		m := resetPasswordRE.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil {
			t.Fatalf("reset: %d, no temporary password shown", r.status)
		}
		temp := html.UnescapeString(m[1])
		if r := carl.get("/ui/"); r.status != http.StatusSeeOther {
			t.Errorf("carl's old session after the reset: %d, want it ended", r.status)
		}
		c := browser()
		if r := c.post("/ui/login", url.Values{"username": {"carl"}, "password": {ownPassword}}); r.status != http.StatusUnauthorized {
			t.Errorf("the old password after the reset: %d, want 401", r.status)
		}
		if r := c.post("/ui/login", url.Values{"username": {"carl"}, "password": {temp}}); r.status != http.StatusSeeOther {
			t.Fatalf("the temporary password: %d", r.status)
		}
		if r := c.get("/ui/"); r.status != http.StatusSeeOther || r.location != "/ui/password" {
			t.Errorf("first page after signing in with the temporary password: %d %s, want /ui/password", r.status, r.location)
		}
		if r := c.get("/ui/devices"); r.location != "/ui/password" {
			t.Errorf("another page before the change: %d %s, want /ui/password", r.status, r.location)
		}
		if err := e.users.ChangePassword(ctx, "carl", temp, "Harbor-Lights-99!"); err != nil {
			t.Fatal(err)
		}
		pw["carl"] = "Harbor-Lights-99!"
	})
	t.Run("the last enabled admin, oneself and a missing confirmation are refused", func(t *testing.T) {
		admin := signIn("admin")
		for _, tc := range []struct {
			path string
			form url.Values
			want int
		}{
			{"/ui/users/admin/disable", nil, http.StatusBadRequest},
			{"/ui/users/admin/delete", url.Values{"confirm": {"yes"}}, http.StatusBadRequest},
			{"/ui/users/carl/delete", nil, http.StatusBadRequest},
			{"/ui/users/nobody/disable", nil, http.StatusNotFound},
		} {
			f := csrf(admin)
			for k, v := range tc.form {
				f[k] = v
			}
			if r := admin.post(tc.path, f); r.status != tc.want {
				t.Errorf("%s: %d, want %d", tc.path, r.status, tc.want)
			}
		}
		if _, err := e.st.User(ctx, "carl"); err != nil {
			t.Errorf("carl after an unconfirmed delete: %v", err)
		}
	})
	t.Run("a viewer and a request without the CSRF token change nothing", func(t *testing.T) {
		v := signIn("viewer")
		if r := v.post("/ui/users/carl/disable", csrf(v)); r.status != http.StatusForbidden {
			t.Errorf("viewer disabling: %d, want 403", r.status)
		}
		admin := signIn("admin")
		if r := admin.post("/ui/users/carl/disable", url.Values{}); r.status != http.StatusForbidden {
			t.Errorf("disable without CSRF: %d, want 403", r.status)
		}
		if u, _ := e.st.User(ctx, "carl"); u.Disabled() {
			t.Error("carl was disabled")
		}
	})
	t.Run("reviews: due and overdue are shown and a recorded review clears them", func(t *testing.T) {
		advance(users.ReviewEvery-10*24*time.Hour, "admin", "carl")
		admin := signIn("admin")
		body := admin.get("/ui/users").body
		if !strings.Contains(body, `id="review-summary"`) || !strings.Contains(body, "due within 30 days") {
			t.Errorf("users page lacks the due reviews")
		}
		f := csrf(admin)
		f.Set("note", "still in the SOC")
		if r := admin.post("/ui/users/carl/review", f); r.status != http.StatusSeeOther {
			t.Fatalf("review: %d", r.status)
		}
		u, _ := e.st.User(ctx, "carl")
		if u.ReviewedBy != "user:admin" || users.ReviewState(u, e.clock.Now()) != users.ReviewCurrent {
			t.Errorf("carl after review: by %q, %s", u.ReviewedBy, users.ReviewState(u, e.clock.Now()))
		}
		if r := admin.post("/ui/users/admin/review", csrf(admin)); r.status != http.StatusBadRequest {
			t.Errorf("reviewing oneself: %d, want 400", r.status)
		}
		advance(20*24*time.Hour, "admin")
		admin = signIn("admin")
		if body := admin.get("/ui/users").body; !strings.Contains(body, "overdue") {
			t.Error("the admin's own overdue review is not shown")
		}
	})
	t.Run("the server's sweep disables an account unused for 90 days and the page says why", func(t *testing.T) {
		advance(users.InactiveAfter+time.Hour, "admin")
		if n, err := e.users.SweepInactive(ctx); err != nil || n < 1 {
			t.Fatalf("SweepInactive = %d, %v", n, err)
		}
		u, _ := e.st.User(ctx, "carl")
		if !u.Disabled() || u.DisabledReason != store.DisabledInactive {
			t.Fatalf("carl %s (%s), want disabled as inactive", u.State(), u.DisabledReason)
		}
		admin := signIn("admin")
		if body := admin.get("/ui/users").body; !strings.Contains(body, "no sign-in for 90 days") {
			t.Error("the users page does not say carl was disabled for inactivity")
		}
	})
	t.Run("deleting with confirmation removes the account", func(t *testing.T) {
		admin := signIn("admin")
		f := csrf(admin)
		f.Set("confirm", "yes")
		if r := admin.post("/ui/users/carl/delete", f); r.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.status)
		}
		if _, err := e.st.User(ctx, "carl"); err == nil {
			t.Error("carl still exists")
		}
	})
}

func TestUsersPageShowsAddressLocks(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin)
	e.addUser("carl", users.RoleAnalyst)
	e.signIn("carl") // 127.0.0.1 becomes an address carl uses
	for range users.LockAfter {
		e.client().post("/ui/login", url.Values{"username": {"carl"}, "password": {"typo"}})
	}
	admin := e.signIn("admin")
	body := admin.get("/ui/users").body
	if !strings.Contains(body, "Locked at 127.0.0.1") || !strings.Contains(body, "/ui/users/carl/unlock") {
		t.Fatal("the users page does not show carl's address lock with an Unlock button")
	}
	if r := admin.post("/ui/users/carl/unlock", url.Values{"csrf": {admin.csrf("/ui/password")}}); r.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.status)
	}
	if body := admin.get("/ui/users").body; strings.Contains(body, "Locked at") {
		t.Error("the address lock shows after unlock")
	}
	e.signIn("carl")
}
