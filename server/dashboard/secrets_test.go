package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func TestSecretsPage(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("admin", users.RoleAdmin)
	e.addUser("analyst", users.RoleAnalyst)
	admin := e.signIn("admin")
	create := func(c *client, v url.Values) resp {
		v.Set("csrf", c.csrf("/ui/secrets"))
		if _, ok := v["password"]; !ok {
			v.Set("password", ownPassword)
		}
		return c.post("/ui/secrets", v)
	}
	var secret, id string
	t.Run("an admin creates a secret, shown once with each OS's install command", func(t *testing.T) {
		r := create(admin, url.Values{"org": {"Eastside Clinic"}, "owner": {"it"}, "expires": {"90d"}, "max_uses": {"500"}})
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		m := regexp.MustCompile(`id="new-secret">(pt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)<`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no secret on the page:\n%s", r.body)
		}
		secret = m[1]
		tok, err := pb.ParseEnrollToken(secret)
		if err != nil || tok.CAPin != e.dash.cfg.CAPin {
			t.Errorf("secret %q does not pin the CA: %v", secret, err)
		}
		for _, want := range []string{"msiexec /i postern-agent_VERSION_x64.msi /qn SERVER=", "SECRET=" + secret, "/etc/postern/enroll.token", "install.sh --server"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		list, _ := e.st.EnrollSecrets(context.Background())
		if len(list) != 1 || list[0].Org != "Eastside Clinic" || list[0].MaxUses != 500 || list[0].Hash != store.HashSecret(tok.Secret) {
			t.Fatalf("stored %+v", list)
		}
		id = list[0].ID
	})
	t.Run("the list shows it without the secret", func(t *testing.T) {
		body := admin.get("/ui/secrets").body
		if !strings.Contains(body, id) || !strings.Contains(body, "0/500") || strings.Contains(body, secret) {
			t.Errorf("list wrong or shows the secret")
		}
	})
	bad := []struct {
		name string
		form url.Values
	}{
		{"without an organization", url.Values{"org": {""}, "expires": {"30d"}}},
		{"with a lifetime not offered", url.Values{"org": {"x"}, "expires": {"100y"}}},
		{"with a negative use limit", url.Values{"org": {"x"}, "expires": {"30d"}, "max_uses": {"-1"}}},
		{"with a label past 128 bytes", url.Values{"org": {strings.Repeat("x", 129)}, "expires": {"30d"}}},
		{"without the current password (a session left open cannot mint one)", url.Values{"org": {"x"}, "expires": {"30d"}, "password": {""}}},
		{"with a wrong password", url.Values{"org": {"x"}, "expires": {"30d"}, "password": {"not-the-password"}}},
	}
	for _, tt := range bad {
		t.Run("a secret "+tt.name+" is refused with a clear error and nothing stored", func(t *testing.T) {
			if r := create(admin, tt.form); r.status != http.StatusBadRequest || !strings.Contains(r.body, `role="alert"`) {
				t.Errorf("status %d", r.status)
			}
			if list, _ := e.st.EnrollSecrets(context.Background()); len(list) != 1 {
				t.Errorf("%d secrets stored", len(list))
			}
		})
	}
	t.Run("an analyst cannot see, create or revoke secrets", func(t *testing.T) {
		c := e.signIn("analyst")
		if r := c.get("/ui/secrets"); r.status != http.StatusForbidden {
			t.Errorf("page: status %d", r.status)
		}
		if r := c.post("/ui/secrets", url.Values{"csrf": {c.csrf("/ui/password")}, "org": {"x"}, "expires": {"30d"}}); r.status != http.StatusForbidden {
			t.Errorf("create: status %d", r.status)
		}
		if r := c.post("/ui/secrets/"+id+"/revoke", url.Values{"csrf": {c.csrf("/ui/password")}}); r.status != http.StatusForbidden {
			t.Errorf("revoke: status %d", r.status)
		}
	})
	t.Run("forms without the CSRF token are refused", func(t *testing.T) {
		if r := admin.post("/ui/secrets", url.Values{"org": {"x"}, "expires": {"30d"}}); r.status != http.StatusForbidden {
			t.Errorf("create: status %d", r.status)
		}
		if r := admin.post("/ui/secrets/"+id+"/revoke", url.Values{"csrf": {"AAAA"}}); r.status != http.StatusForbidden {
			t.Errorf("revoke: status %d", r.status)
		}
	})
	t.Run("an admin revokes it; it is listed revoked and the action is audited", func(t *testing.T) {
		if r := admin.post("/ui/secrets/"+id+"/revoke", url.Values{"csrf": {admin.csrf("/ui/secrets")}}); r.status != http.StatusSeeOther {
			t.Fatalf("status %d", r.status)
		}
		if body := admin.get("/ui/secrets").body; !strings.Contains(body, "revoked") {
			t.Error("not listed as revoked")
		}
		body := admin.get("/ui/audit").body
		for _, want := range []string{"enroll_secret_created", "enroll_secret_revoked"} {
			if !strings.Contains(body, want) {
				t.Errorf("audit lacks %s", want)
			}
		}
	})
	t.Run("an unknown secret cannot be revoked", func(t *testing.T) {
		if r := admin.post("/ui/secrets/000000000000/revoke", url.Values{"csrf": {admin.csrf("/ui/secrets")}}); r.status != http.StatusNotFound {
			t.Errorf("status %d", r.status)
		}
	})
}
