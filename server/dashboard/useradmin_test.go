package dashboard

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/users"
)

var newPasswordRE = regexp.MustCompile(`<code class="token" id="new-password">([^<]+)</code>`)

func TestUserAdministration(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin)
	e.addUser("other", users.RoleAdmin)
	e.addUser("viewer", users.RoleViewer)
	add := func(tok, name, role string) url.Values {
		return url.Values{"csrf": {tok}, "username": {name}, "first_name": {"Wei"}, "last_name": {"Kim"}, "role": {role}}
	}
	var initial string
	tests := []struct {
		name   string
		user   string
		path   string
		form   func(tok string) url.Values
		want   int
		inBody string
	}{
		{"an admin adds an account and sees its initial password once", "admin", "/ui/users",
			func(tok string) url.Values { return add(tok, "wei.kim", "analyst") }, http.StatusOK, `id="new-password"`},
		{"a taken user name is refused", "admin", "/ui/users",
			func(tok string) url.Values { return add(tok, "wei.kim", "viewer") }, http.StatusBadRequest, "is taken"},
		{"an invalid user name is refused", "admin", "/ui/users",
			func(tok string) url.Values { return add(tok, "Wei Kim", "viewer") }, http.StatusBadRequest, "lowercase letters"},
		{"an unknown role is refused", "admin", "/ui/users",
			func(tok string) url.Values { return add(tok, "ana", "root") }, http.StatusBadRequest, "Choose a role"},
		{"a missing last name is refused", "admin", "/ui/users",
			func(tok string) url.Values { v := add(tok, "ana", "viewer"); v.Del("last_name"); return v }, http.StatusBadRequest, "last name"},
		{"adding without the CSRF token is refused", "admin", "/ui/users",
			func(string) url.Values { return add("", "eve", "admin") }, http.StatusForbidden, "CSRF"},
		{"a viewer cannot add an account", "viewer", "/ui/users",
			func(tok string) url.Values { return add(tok, "eve", "admin") }, http.StatusForbidden, ""},
		{"an admin changes another user's role", "admin", "/ui/users/wei.kim/role",
			func(tok string) url.Values { return url.Values{"csrf": {tok}, "role": {"approver"}} }, http.StatusSeeOther, ""},
		{"an unknown role is not set", "admin", "/ui/users/wei.kim/role",
			func(tok string) url.Values { return url.Values{"csrf": {tok}, "role": {"root"}} }, http.StatusBadRequest, ""},
		{"an admin cannot change their own role", "admin", "/ui/users/admin/role",
			func(tok string) url.Values { return url.Values{"csrf": {tok}, "role": {"viewer"}} }, http.StatusForbidden, "own role"},
		{"an unknown user's role is not found", "admin", "/ui/users/nobody/role",
			func(tok string) url.Values { return url.Values{"csrf": {tok}, "role": {"viewer"}} }, http.StatusNotFound, ""},
		{"a role change without the CSRF token is refused", "admin", "/ui/users/other/role",
			func(string) url.Values { return url.Values{"role": {"viewer"}} }, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Clients share one cookie jar: sign in for each step.
			c := e.signIn(tt.user)
			r := c.post(tt.path, tt.form(c.csrf("/ui/password")))
			if r.status != tt.want || !strings.Contains(r.body, tt.inBody) {
				t.Fatalf("status %d (want %d), body lacks %q", r.status, tt.want, tt.inBody)
			}
			if m := newPasswordRE.FindStringSubmatch(r.body); m != nil {
				initial = html.UnescapeString(m[1])
			}
		})
	}
	ctx := context.Background()
	t.Run("the new account has the changed role and must change its password", func(t *testing.T) {
		acc := e.st
		u, err := acc.User(ctx, "wei.kim")
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != "approver" || !u.MustChange {
			t.Errorf("role %q, must change %v", u.Role, u.MustChange)
		}
		if u.PasswordHash == initial || strings.Contains(u.PasswordHash, initial) {
			t.Error("the initial password is stored in clear")
		}
	})
	t.Run("the initial password signs in only to the password change", func(t *testing.T) {
		c := e.client()
		if r := c.post("/ui/login", url.Values{"username": {"wei.kim"}, "password": {initial}}); r.status != http.StatusSeeOther {
			t.Fatalf("sign in with the initial password: %d", r.status)
		}
		if r := c.get("/ui/"); r.location != "/ui/password" {
			t.Errorf("overview: %d %q, want a redirect to /ui/password", r.status, r.location)
		}
	})
	t.Run("the users page no longer shows the password", func(t *testing.T) {
		if initial == "" {
			t.Fatal("no initial password was shown")
		}
		if body := e.signIn("admin").get("/ui/users").body; strings.Contains(html.UnescapeString(body), initial) {
			t.Error("the initial password is shown again")
		}
	})
	t.Run("creation and role change are audited with their actor", func(t *testing.T) {
		body := e.signIn("admin").get("/ui/audit").body
		for _, kind := range []string{"user_created", "user_role_changed"} {
			if !strings.Contains(body, kind) {
				t.Errorf("audit page lacks %s", kind)
			}
		}
	})
}

func TestDevicePageFollowsTheCurrentPolicy(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("viewer", users.RoleViewer)
	lenient := checks.DefaultPolicy()
	lenient.Unknown = checks.UnknownAllow
	for _, cp := range lenient.Controls {
		cp.Enforcement = checks.EnforceReport
	}
	// The reloadable policy is swapped while the dashboard runs.
	c := e.signIn("viewer")
	steps := []struct {
		name   string
		reload map[string]*checks.Policy
		want   string
	}{
		{"the non-compliant device is denied under the default policy", nil, "Denied"},
		{"another organization's lenient profile does not apply", map[string]*checks.Policy{"Eastside Clinic": lenient}, "Denied"},
		{"its organization's lenient profile applies after a reload", map[string]*checks.Policy{`=HYPERLINK("http://x")`: lenient}, "Allowed"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.reload != nil {
				e.pols.p.Store(setOf(checks.DefaultPolicy(), s.reload))
			}
			body := c.get("/ui/devices/dev_hostile").body
			if !strings.Contains(body, `Gateway decision: <span class="badge s-`) || !strings.Contains(body, ">"+s.want+"</span></h2>") {
				t.Errorf("the decision is not %s", s.want)
			}
		})
	}
}
