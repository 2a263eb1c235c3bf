package dashboard

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

var newKeyRE = regexp.MustCompile(`<code class="token" id="new-key">([^<]+)</code>`)

func TestAPIKeysPage(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin)
	e.addUser("approver", users.RoleApprover)
	form := func(tok, name string, scopes []string, expires string) url.Values {
		return url.Values{"csrf": {tok}, "name": {name}, "scope": scopes, "expires": {expires}, "password": {ownPassword}}
	}
	var secret string
	tests := []struct {
		name   string
		user   string
		form   func(tok string) url.Values
		want   int
		inBody string
	}{
		{"an admin creates a key and sees its secret once", "admin",
			func(tok string) url.Values { return form(tok, "siem-export", []string{"audit:read"}, "90d") }, http.StatusOK, `id="new-key"`},
		{"a key without a name is refused", "admin",
			func(tok string) url.Values { return form(tok, " ", []string{"audit:read"}, "") }, http.StatusBadRequest, "Give the key a name"},
		{"a key without a scope is refused", "admin",
			func(tok string) url.Values { return form(tok, "x", nil, "") }, http.StatusBadRequest, "at least one scope"},
		{"an unknown scope is refused", "admin",
			func(tok string) url.Values { return form(tok, "x", []string{"root"}, "") }, http.StatusBadRequest, "at least one scope"},
		{"an unknown expiry is refused", "admin",
			func(tok string) url.Values { return form(tok, "x", []string{"admin"}, "forever") }, http.StatusBadRequest, "expires"},
		{"a key without the current password is refused (a session left open cannot mint one)", "admin",
			func(tok string) url.Values {
				f := form(tok, "persist", []string{"admin"}, "")
				f.Del("password")
				return f
			}, http.StatusBadRequest, "No key was made"},
		{"a key with a wrong password is refused", "admin",
			func(tok string) url.Values {
				f := form(tok, "persist", []string{"admin"}, "")
				f.Set("password", "not-the-password")
				return f
			}, http.StatusBadRequest, "No key was made"},
		{"a key without the CSRF token is refused", "admin",
			func(string) url.Values { return form("", "x", []string{"admin"}, "") }, http.StatusForbidden, ""},
		{"an approver cannot create a key", "approver",
			func(tok string) url.Values { return form(tok, "x", []string{"admin"}, "") }, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.signIn(tt.user)
			r := c.post("/ui/apikeys", tt.form(c.csrf("/ui/password")))
			if r.status != tt.want || !strings.Contains(r.body, tt.inBody) {
				t.Fatalf("status %d (want %d), body lacks %q", r.status, tt.want, tt.inBody)
			}
			if m := newKeyRE.FindStringSubmatch(r.body); m != nil {
				secret = html.UnescapeString(m[1])
			}
		})
	}
	ctx := context.Background()
	keys, err := e.st.APIKeys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, err %v", keys, err)
	}
	k := keys[0]
	t.Run("the key is stored hashed with its scopes, owner and expiry", func(t *testing.T) {
		id, hash, ok := store.ParseAPIKey(secret)
		if !ok || id != k.ID || !store.HashesEqual(hash, k.Hash) || strings.Contains(k.Hash, secret) {
			t.Fatalf("shown key does not match the stored one")
		}
		if store.JoinScopes(k.Scopes) != "audit:read" || k.Owner != "user:admin" || !k.ExpiresAt.Equal(k.CreatedAt.AddDate(0, 0, 90)) {
			t.Errorf("key %+v", k)
		}
	})
	t.Run("the list shows name, scopes, owner and last use, never the secret", func(t *testing.T) {
		body := e.signIn("admin").get("/ui/apikeys").body
		for _, want := range []string{"siem-export", "audit:read", "user:admin", k.ID, "never"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(html.UnescapeString(body), secret) {
			t.Error("the page shows the secret again")
		}
	})
	t.Run("an approver cannot see the page", func(t *testing.T) {
		if r := e.signIn("approver").get("/ui/apikeys"); r.status != http.StatusForbidden {
			t.Errorf("status %d", r.status)
		}
	})
	t.Run("the key is revoked once, audited", func(t *testing.T) {
		c := e.signIn("admin")
		if r := c.post("/ui/apikeys/"+k.ID+"/revoke", url.Values{"csrf": {c.csrf("/ui/password")}}); r.status != http.StatusSeeOther {
			t.Fatalf("status %d", r.status)
		}
		if r := c.post("/ui/apikeys/"+k.ID+"/revoke", url.Values{"csrf": {c.csrf("/ui/password")}}); r.status != http.StatusConflict {
			t.Errorf("again: status %d", r.status)
		}
		got, err := e.st.APIKey(ctx, k.ID)
		if err != nil || got.RevokedAt.IsZero() {
			t.Errorf("key %+v, err %v", got, err)
		}
		body := c.get("/ui/audit").body
		for _, kind := range []string{"apikey_created", "apikey_revoked"} {
			if !strings.Contains(body, kind) {
				t.Errorf("audit page lacks %s", kind)
			}
		}
	})
}
