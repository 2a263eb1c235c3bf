package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/internal/oidctest"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/users"
)

const idpLifetime = 2 * time.Minute

// ssoEnv is a dashboard offering sign-in through a real OpenID provider
// running in the test.
type ssoEnv struct {
	*env
	idp *oidctest.Provider
}

func newSSOEnv(t *testing.T, local LocalSignIn) *ssoEnv {
	t.Helper()
	var idp *oidctest.Provider
	e := newEnvWith(t, nil, func(cfg *Config, base string) {
		idp = oidctest.Start(t, oidctest.Config{ClientID: "postern", ClientSecret: "client-secret-of-postern",
			RedirectURIs: []string{base + OIDCCallbackPath}, IDTokenLifetime: idpLifetime,
			Users: []oidctest.User{
				{Subject: "sub-ana", Username: "ana.lima", Password: "idp-pass", GivenName: "Ana", FamilyName: "Lima", Groups: []string{"staff", "postern-admins"}},
				{Subject: "sub-bo", Username: "bo", Password: "idp-pass", GivenName: "Bo", FamilyName: "Chen", Groups: []string{"finance"}},
				{Subject: "sub-carol", Username: "carol", Password: "idp-pass", GivenName: "Carol", FamilyName: "Diaz", Groups: []string{"secops"}},
			}})
		cfg.OIDC = &OIDCConfig{Issuer: idp.Issuer, ClientID: "postern", ClientSecret: "client-secret-of-postern",
			RedirectURL: base + OIDCCallbackPath, Scopes: []string{"profile", "groups"}, DisplayName: "County SSO",
			Roles:      users.RoleMapping{users.RoleAdmin: {"postern-admins"}, users.RoleAnalyst: {"secops"}, users.RoleViewer: {"staff"}},
			HTTPClient: idp.HTTPClient()}
		cfg.LocalSignIn = local
	})
	// The provider dates its tokens by the wall clock; the dashboard's
	// clock starts there and moves only when a test moves it.
	e.clock.t = time.Now()
	return &ssoEnv{env: e, idp: idp}
}

// startSSO follows the dashboard's sign-in to the provider's login page
// and signs in there; it returns the provider's redirect back to the
// dashboard (the callback URL with its code and state), not yet followed.
func (e *ssoEnv) startSSO(c *client, username string) string {
	e.t.Helper()
	r := c.get(OIDCLoginPath)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, e.idp.Issuer+"/authorize?") {
		e.t.Fatalf("start: %d %s", r.status, r.location)
	}
	for _, p := range []string{"code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "client_id=postern"} {
		if !strings.Contains(r.location, p) {
			e.t.Errorf("the authorization request lacks %s: %s", p, r.location)
		}
	}
	loc := r.location
	for !strings.Contains(loc, "/login?") {
		loc = c.abs(e.idp.Issuer, c.getURL(loc).location)
	}
	id := mustURL(loc).Query().Get("authRequestID")
	r = c.postURL(e.idp.Issuer+"/login", url.Values{"id": {id}, "username": {username}, "password": {"idp-pass"}})
	loc = r.location
	for !strings.HasPrefix(loc, e.srv.URL) {
		if loc == "" {
			e.t.Fatalf("the provider did not send the browser back: %d %s", r.status, r.body)
		}
		r = c.getURL(c.abs(e.idp.Issuer, loc))
		loc = r.location
	}
	return loc
}

func (c *client) abs(base, loc string) string {
	if strings.HasPrefix(loc, "/") {
		return base + loc
	}
	return loc
}

func (c *client) getURL(u string) resp {
	c.e.t.Helper()
	return c.do("GET", u, nil)
}

func (c *client) postURL(u string, form url.Values) resp {
	c.e.t.Helper()
	return c.do("POST", u, form)
}

// signInSSO signs in through the provider and returns the callback's
// answer.
func (e *ssoEnv) signInSSO(c *client, username string) resp {
	e.t.Helper()
	return c.getURL(e.startSSO(c, username))
}

func (e *ssoEnv) auditKinds(kinds ...string) []map[string]string {
	e.t.Helper()
	rows, err := e.st.AuditRows(context.Background(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows {
		for _, k := range kinds {
			if r.Kind == k {
				out = append(out, map[string]string{"actor": r.Actor, "kind": r.Kind, "details": string(r.Details)})
			}
		}
	}
	return out
}

func isSignedIn(c *client) bool {
	r := c.get("/ui/")
	return r.status == http.StatusOK
}

func TestSSOSignInCreatesTheAccountJustInTime(t *testing.T) {
	e := newSSOEnv(t, LocalSignInAllowed)
	c := e.client()
	login := c.get("/ui/login")
	if !strings.Contains(login.body, `href="/ui/oidc/login"`) || !strings.Contains(login.body, "Sign in with County SSO") {
		t.Fatalf("the sign-in page offers no single sign-on:\n%s", login.body)
	}
	r := e.signInSSO(c, "ana.lima")
	if r.status != http.StatusOK || !strings.Contains(r.body, `url=/ui/`) {
		t.Fatalf("callback: %d %s", r.status, r.body)
	}
	if cookie := r.header.Values("Set-Cookie"); !strings.Contains(strings.Join(cookie, "\n"), OIDCStateCookie+"=;") {
		t.Errorf("the state cookie is not cleared: %q", cookie)
	}
	u, err := e.st.User(context.Background(), "ana.lima")
	if err != nil {
		t.Fatal(err)
	}
	if !u.OIDC() || u.PasswordHash != "" || u.Role != "admin" || u.OIDCIssuer != e.idp.Issuer || u.OIDCSubject != "sub-ana" || u.FirstName != "Ana" {
		t.Errorf("account = %+v", u)
	}
	if r := c.get("/ui/users"); r.status != http.StatusOK || !strings.Contains(r.body, `<span class="muted">single sign-on</span>`) {
		t.Errorf("the users page (%d) does not show the admin from the provider's group as a single sign-on account", r.status)
	}
	if r := c.get("/ui/"); strings.Contains(r.body, `href="/ui/password"`) || strings.Contains(r.body, `href="/ui/account"`) {
		t.Error("an OIDC account is offered a password change or second factors")
	}
	for _, p := range []string{"/ui/password", "/ui/account", "/ui/account/totp"} {
		if r := c.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s answers an OIDC account %d, want 404", p, r.status)
		}
	}
	if r := c.post("/ui/login", url.Values{"username": {"ana.lima"}, "password": {"idp-pass"}}); r.status != http.StatusUnauthorized {
		t.Errorf("the provider's password opens the OIDC account locally: %d", r.status)
	}
	got := e.auditKinds(audit.KindUserCreated, audit.KindSignedIn)
	want := []map[string]string{
		{"actor": users.ActorOIDC, "kind": audit.KindUserCreated, "details": `{"oidc_issuer":"` + e.idp.Issuer + `","oidc_subject":"sub-ana","role":"admin","user":"ana.lima"}`},
		{"actor": "user:ana.lima", "kind": audit.KindSignedIn, "details": `{"issuer":"` + e.idp.Issuer + `","method":"oidc","role":"admin","source":"127.0.0.1","user":"ana.lima"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	csrf := c.csrf("/ui/")
	c.post("/ui/logout", url.Values{"csrf": {csrf}})
	if len(e.auditKinds(audit.KindSignedOut)) != 1 {
		t.Error("sign-out is not audited")
	}
}

func TestSSORoleFollowsTheProviderAtTheNextSignIn(t *testing.T) {
	e := newSSOEnv(t, LocalSignInAllowed)
	if r := e.signInSSO(e.client(), "ana.lima"); r.status != http.StatusOK {
		t.Fatalf("first sign-in: %d", r.status)
	}
	e.idp.SetGroups("ana.lima", "secops", "staff")

	t.Run("the last administrator losing the group is refused, not demoted", func(t *testing.T) {
		c := e.client()
		if r := e.signInSSO(c, "ana.lima"); r.status != http.StatusForbidden || !strings.Contains(r.body, "last Postern administrator") {
			t.Errorf("sign-in answered %d:\n%s", r.status, r.body)
		}
		if isSignedIn(c) {
			t.Error("signed in with a role the provider withdrew")
		}
		if got := e.auditKinds(audit.KindSignInRefused); len(got) != 1 {
			t.Errorf("refusals = %v", got)
		}
	})

	e.addUser("root", users.RoleAdmin)
	c := e.client()
	if r := e.signInSSO(c, "ana.lima"); r.status != http.StatusOK {
		t.Fatalf("second sign-in: %d", r.status)
	}
	if r := c.get("/ui/users"); r.status != http.StatusForbidden {
		t.Errorf("an analyst now: the users page answers %d, want 403", r.status)
	}
	u, _ := e.st.User(context.Background(), "ana.lima")
	if u.Role != "analyst" {
		t.Errorf("role = %s, want analyst", u.Role)
	}
	if got := e.auditKinds(audit.KindUserRoleChanged); len(got) != 1 || got[0]["actor"] != users.ActorOIDC {
		t.Errorf("role change audit = %v", got)
	}
}

func TestSSORefusals(t *testing.T) {
	tests := []struct {
		name string
		// attack runs the sign-in its way and returns the callback's answer.
		attack     func(e *ssoEnv, c *client) resp
		wantStatus int
		wantReason string // audited; empty when nothing verified is audited
	}{
		{"an ID token for another audience is refused", func(e *ssoEnv, c *client) resp {
			e.idp.ForgeAudience("another-service")
			return e.signInSSO(c, "ana.lima")
		}, http.StatusUnauthorized, "ID token refused: oidc: expected audience"},
		{"an expired ID token is refused", func(e *ssoEnv, c *client) resp {
			back := e.startSSO(c, "ana.lima")
			e.clock.Add(idpLifetime + 3*time.Minute) // still within the 10 minutes of the state
			return c.getURL(back)
		}, http.StatusUnauthorized, "ID token refused: oidc: token is expired"},
		{"an ID token with another sign-in's nonce is refused", func(e *ssoEnv, c *client) resp {
			e.idp.ForgeNonce("nonce-of-another-sign-in")
			return e.signInSSO(c, "ana.lima")
		}, http.StatusUnauthorized, "ID token refused: its nonce is not this sign-in's"},
		{"a state that is not the browser's is refused", func(e *ssoEnv, c *client) resp {
			back := mustURL(e.startSSO(c, "ana.lima"))
			q := back.Query()
			q.Set("state", "state-of-an-attacker")
			back.RawQuery = q.Encode()
			return c.getURL(back.String())
		}, http.StatusBadRequest, ""},
		{"a callback from another browser (no state cookie) is refused", func(e *ssoEnv, c *client) resp {
			back := e.startSSO(c, "ana.lima")
			return e.client().getURL(back)
		}, http.StatusBadRequest, ""},
		{"a state older than 10 minutes is refused", func(e *ssoEnv, c *client) resp {
			back := e.startSSO(c, "ana.lima")
			e.clock.Add(oidcStateTTL)
			return c.getURL(back)
		}, http.StatusBadRequest, ""},
		{"a user whose groups give no role is refused", func(e *ssoEnv, c *client) resp {
			return e.signInSSO(c, "bo")
		}, http.StatusForbidden, `no group with a role (groups: ["finance"])`},
		{"a provider user named like a local account is refused", func(e *ssoEnv, c *client) resp {
			e.addUser("carol", users.RoleAdmin)
			return e.signInSSO(c, "carol")
		}, http.StatusForbidden, "user name taken by another account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSSOEnv(t, LocalSignInAllowed)
			c := e.client()
			r := tt.attack(e, c)
			if r.status != tt.wantStatus {
				t.Errorf("callback answered %d, want %d:\n%s", r.status, tt.wantStatus, r.body)
			}
			if !strings.Contains(r.body, `id="login-error"`) {
				t.Errorf("the refusal page says nothing:\n%s", r.body)
			}
			if isSignedIn(c) {
				t.Error("the attacker's browser is signed in")
			}
			if _, err := e.st.UserByOIDC(context.Background(), e.idp.Issuer, "sub-ana"); err == nil && tt.wantStatus != http.StatusOK {
				t.Error("an account was made for a refused sign-in")
			}
			refusals := e.auditKinds(audit.KindSignInRefused)
			switch {
			case tt.wantReason == "" && len(refusals) != 0:
				t.Errorf("unverified callbacks are audited: %v", refusals)
			case tt.wantReason != "" && (len(refusals) != 1 || !strings.Contains(refusals[0]["details"], strings.ReplaceAll(tt.wantReason, `"`, `\"`))):
				t.Errorf("refusal audit = %v, want one with %q", refusals, tt.wantReason)
			}
			if len(e.auditKinds(audit.KindSignedIn)) != 0 {
				t.Error("a refused sign-in is audited as signed in")
			}
		})
	}
}

func TestSSOCodeWorksOnce(t *testing.T) {
	e := newSSOEnv(t, LocalSignInAllowed)
	victim := e.client()
	back := e.startSSO(victim, "ana.lima")
	if r := victim.getURL(back); r.status != http.StatusOK {
		t.Fatalf("first use: %d", r.status)
	}

	t.Run("the same callback again is refused", func(t *testing.T) {
		// The victim's state cookie was cleared; an attacker holding the
		// cookie as well as the URL replays both.
		attacker := e.client()
		st := stateCookieFor(t, e, back)
		attacker.http.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{st})
		if r := attacker.getURL(back); r.status != http.StatusBadRequest {
			t.Errorf("replayed callback answered %d, want 400", r.status)
		}
		if isSignedIn(attacker) {
			t.Error("the replayed callback signed the attacker in")
		}
	})

	t.Run("the code under a fresh sign-in's state is refused by the provider", func(t *testing.T) {
		attacker := e.client()
		fresh := mustURL(e.startSSO(attacker, "carol"))
		q := fresh.Query()
		q.Set("code", mustURL(back).Query().Get("code"))
		fresh.RawQuery = q.Encode()
		if r := attacker.getURL(fresh.String()); r.status != http.StatusUnauthorized {
			t.Errorf("replayed code answered %d, want 401", r.status)
		}
		if isSignedIn(attacker) {
			t.Error("the replayed code signed the attacker in")
		}
		refusals := e.auditKinds(audit.KindSignInRefused)
		if len(refusals) != 1 || !strings.Contains(refusals[0]["details"], "code exchange refused") {
			t.Errorf("refusals = %v", refusals)
		}
	})
}

// stateCookieFor makes the state cookie the browser held for back, as
// an attacker who copied it would have it: sealed with the dashboard's
// key for back's state.
func stateCookieFor(t *testing.T, e *ssoEnv, back string) *http.Cookie {
	t.Helper()
	state := mustURL(back).Query().Get("state")
	v := e.dash.sso.seal(oidcState{State: state, Nonce: "n", Verifier: "v", Issued: e.clock.Now().Unix()})
	return &http.Cookie{Name: OIDCStateCookie, Value: v, Path: "/"}
}

func TestLocalSignInSwitch(t *testing.T) {
	t.Run("turned off, the right password is refused and audited", func(t *testing.T) {
		e := newSSOEnv(t, LocalSignInOff)
		e.addUser("root", users.RoleAdmin)
		c := e.client()
		if r := c.get("/ui/login"); strings.Contains(r.body, `action="/ui/login"`) {
			t.Error("the password form is offered while password sign-in is off")
		}
		r := c.post("/ui/login", url.Values{"username": {"root"}, "password": {ownPassword}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Password sign-in is turned off. Sign in with County SSO.") {
			t.Errorf("password sign-in answered %d:\n%s", r.status, r.body)
		}
		if isSignedIn(c) {
			t.Error("signed in with a password while password sign-in is off")
		}
		if got := e.auditKinds(audit.KindSignInRefused); len(got) != 1 || !strings.Contains(got[0]["details"], `"reason":"local password sign-in is off"`) {
			t.Errorf("refusal audit = %v", got)
		}
		if r := e.signInSSO(c, "ana.lima"); r.status != http.StatusOK {
			t.Errorf("single sign-on answered %d", r.status)
		}
	})

	t.Run("loopback only, the test's loopback client signs in", func(t *testing.T) {
		e := newSSOEnv(t, LocalSignInLoopback)
		e.addUser("root", users.RoleAdmin)
		e.signIn("root")
	})

	for _, tt := range []struct {
		mode   LocalSignIn
		remote string
		want   bool
	}{
		{LocalSignInAllowed, "203.0.113.9:5000", true},
		{LocalSignInLoopback, "127.0.0.1:5000", true},
		{LocalSignInLoopback, "[::1]:5000", true},
		{LocalSignInLoopback, "[::ffff:127.0.0.1]:5000", true},
		{LocalSignInLoopback, "203.0.113.9:5000", false},
		{LocalSignInLoopback, "[2001:db8::1]:5000", false},
		{LocalSignInOff, "127.0.0.1:5000", false},
	} {
		t.Run(string(tt.mode)+" from "+tt.remote, func(t *testing.T) {
			d := &Dashboard{cfg: Config{LocalSignIn: tt.mode}}
			r, _ := http.NewRequest("GET", "/ui/login", nil)
			r.RemoteAddr = tt.remote
			if got := d.localAllowed(r); got != tt.want {
				t.Errorf("localAllowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStateCookie(t *testing.T) {
	s, err := newSSO(OIDCConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://p.example" + OIDCCallbackPath,
		Roles: users.RoleMapping{users.RoleViewer: {"g"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good := s.seal(oidcState{State: "st", Nonce: "n", Verifier: "v", Issued: now.Unix()})
	other, _ := newSSO(OIDCConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "another", RedirectURL: "https://p.example" + OIDCCallbackPath,
		Roles: users.RoleMapping{users.RoleViewer: {"g"}}})
	tests := []struct {
		name, cookie, state string
		at                  time.Time
	}{
		{"a cookie sealed with another secret", other.seal(oidcState{State: "st", Issued: now.Unix()}), "st", now},
		{"a cookie whose payload was changed", strings.Replace(good, good[:4], "AAAA", 1), "st", now},
		{"an empty cookie", "", "st", now},
		{"another state", good, "other", now},
		{"an expired cookie", good, "st", now.Add(oidcStateTTL)},
		{"a cookie from the future", good, "st", now.Add(-2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if _, err := s.open(tt.cookie, tt.state, tt.at); err == nil {
				t.Error("accepted")
			}
		})
	}
	st, err := s.open(good, "st", now.Add(time.Minute))
	if err != nil {
		t.Fatalf("a good cookie: %v", err)
	}
	// The state is used up once the provider's answer was verified (use).
	if !s.use(st, now.Add(time.Minute)) {
		t.Fatal("a fresh state could not be used")
	}
	if s.use(st, now.Add(time.Minute)) {
		t.Error("a state was used twice")
	}
	if _, err := s.open(good, "st", now.Add(time.Minute)); err == nil {
		t.Error("a good cookie was accepted after its state was used")
	}
}

func TestOIDCConfigValidate(t *testing.T) {
	good := OIDCConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://p.example:8443" + OIDCCallbackPath,
		Roles: users.RoleMapping{users.RoleViewer: {"g"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*OIDCConfig){
		"a plain-HTTP issuer":            func(c *OIDCConfig) { c.Issuer = "http://idp.example" },
		"no client ID":                   func(c *OIDCConfig) { c.ClientID = "" },
		"no client secret":               func(c *OIDCConfig) { c.ClientSecret = "" },
		"a redirect URL on another path": func(c *OIDCConfig) { c.RedirectURL = "https://p.example/callback" },
		"a plain-HTTP redirect URL":      func(c *OIDCConfig) { c.RedirectURL = "http://p.example" + OIDCCallbackPath },
		"no roles":                       func(c *OIDCConfig) { c.Roles = nil },
	} {
		c := good
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", name)
		}
	}
}
