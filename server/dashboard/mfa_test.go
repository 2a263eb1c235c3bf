package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// newMFAEnv is newEnv whose users service has an MFA key (TOTP
// available) and whose dashboard limits security keys to hosts.
func newMFAEnv(t *testing.T, hosts ...string) *env {
	t.Helper()
	e := newEnv(t, nil)
	key, err := users.LoadOrCreateMFAKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	aud := audit.New(e.st, e.clock.Now, nil)
	us, err := users.New(users.Config{Store: e.st, Audit: aud, Params: users.Params{Memory: 64, Time: 1, Threads: 1}, Now: e.clock.Now, MFAKey: key})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Logger: testLogger(t), Store: e.st, Users: us, Decisions: e.eng, Audit: aud,
		Policy: func() *checks.Policy { return e.pols.Current().Default.Policy }, Now: e.clock.Now, WebAuthnHosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Mount(mux)
	e.srv.Config.Handler = mux
	e.users, e.dash = us, d
	return e
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// totpCode is the code of secret at the env's clock plus skew.
func (e *env) totpCode(secret string, skew time.Duration) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now().Add(skew))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

var codesRE = regexp.MustCompile(`<li><code>([a-z2-9-]{19})</code></li>`)

// enrolTOTP sets up an authenticator app from the signed-in client's
// account page and returns its secret and the recovery codes shown.
func (e *env) enrolTOTP(c *client) (string, []string) {
	e.t.Helper()
	page := c.get("/ui/account/totp")
	m := secretRE.FindStringSubmatch(page.body)
	if m == nil {
		e.t.Fatalf("no secret on the setup page: %d %s", page.status, page.body)
	}
	if !strings.Contains(page.body, `src="data:image/png;base64,`) {
		e.t.Error("the setup page has no inline QR code")
	}
	csrf := csrfRE.FindStringSubmatch(page.body)[1]
	if r := c.post("/ui/account/totp", url.Values{"csrf": {csrf}, "code": {e.totpCode(m[1], 0)}, "password": {"not-it"}}); r.status != http.StatusUnprocessableEntity {
		e.t.Errorf("confirm totp with a wrong password: %d, want 422", r.status)
	}
	r := c.post("/ui/account/totp", url.Values{"csrf": {csrf}, "code": {e.totpCode(m[1], 0)}, "password": {ownPassword}})
	var codes []string
	for _, cm := range codesRE.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, cm[1])
	}
	if r.status != http.StatusOK || len(codes) != users.RecoveryCodeCount {
		e.t.Fatalf("confirm totp: %d, %d recovery codes", r.status, len(codes))
	}
	return m[1], codes
}

// password posts the password step and returns the answer.
func (c *client) password(name string) resp {
	return c.post("/ui/login", url.Values{"username": {name}, "password": {ownPassword}})
}

func hasSessionCookie(r resp) bool {
	for _, sc := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, SessionCookie+"=") && !strings.Contains(sc, "Max-Age=0") {
			return true
		}
	}
	return false
}

func TestSignInWithTOTP(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("ana", users.RoleAnalyst)
	secret, codes := e.enrolTOTP(e.signIn("ana"))
	e.clock.Add(time.Minute)

	t.Run("the password alone gives no session", func(t *testing.T) {
		c := e.client()
		r := c.password("ana")
		if r.status != http.StatusSeeOther || r.location != "/ui/login/verify" {
			t.Fatalf("password step: %d %s, want the second step", r.status, r.location)
		}
		if hasSessionCookie(r) {
			t.Error("the password step set a session cookie")
		}
		if r := c.get("/ui/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/ui/login") {
			t.Errorf("a page after the password only: %d %s, want sign-in", r.status, r.location)
		}
		// The challenge's value presented as a session cookie opens nothing.
		var challenge string
		for _, sc := range r.header.Values("Set-Cookie") {
			if v, ok := strings.CutPrefix(sc, ChallengeCookie+"="); ok {
				challenge, _, _ = strings.Cut(v, ";")
			}
		}
		if challenge == "" {
			t.Fatal("no challenge cookie")
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/ui/", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: challenge})
		forged, err := e.srv.Client().Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		forged.Body.Close()
		if forged.StatusCode != http.StatusSeeOther || !strings.HasPrefix(forged.Header.Get("Location"), "/ui/login") {
			t.Errorf("the challenge as a session cookie: %d %s, want sign-in", forged.StatusCode, forged.Header.Get("Location"))
		}
	})
	t.Run("a right code signs in; the same code again is refused", func(t *testing.T) {
		code := e.totpCode(secret, 0)
		c := e.client()
		c.password("ana")
		r := c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {code}})
		if r.status != http.StatusSeeOther || r.location != "/ui/" || !hasSessionCookie(r) {
			t.Fatalf("right code: %d %s", r.status, r.location)
		}
		if r := c.get("/ui/"); r.status != http.StatusOK {
			t.Errorf("overview after the second step: %d", r.status)
		}
		other := e.client()
		other.password("ana")
		r = other.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {code}})
		if r.status != http.StatusUnauthorized || hasSessionCookie(r) || !strings.Contains(r.body, "already used") {
			t.Errorf("replayed code: %d, session %v", r.status, hasSessionCookie(r))
		}
	})
	t.Run("a code posted from another site is refused", func(t *testing.T) {
		c := e.client()
		c.password("ana")
		e.clock.Add(30 * time.Second)
		req, _ := http.NewRequest("POST", e.srv.URL+"/ui/login/verify", strings.NewReader(url.Values{"method": {"totp"}, "code": {e.totpCode(secret, 0)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		r, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || hasSessionCookie(resp{header: r.Header}) {
			t.Errorf("cross-site post: %d", r.StatusCode)
		}
	})
	t.Run("a wrong code is refused", func(t *testing.T) {
		c := e.client()
		c.password("ana")
		r := c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {"123456"}})
		if r.status != http.StatusUnauthorized || hasSessionCookie(r) {
			t.Errorf("wrong code: %d", r.status)
		}
	})
	t.Run("a code without the browser's challenge cookie is refused", func(t *testing.T) {
		e.client().password("ana")
		stranger := e.client()
		e.clock.Add(30 * time.Second)
		r := stranger.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {e.totpCode(secret, 0)}})
		if r.status != http.StatusUnauthorized || hasSessionCookie(r) {
			t.Errorf("code from another browser: %d %s", r.status, r.location)
		}
	})
	t.Run("the second step expires after five minutes", func(t *testing.T) {
		c := e.client()
		c.password("ana")
		e.clock.Add(ChallengeTTL)
		r := c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {e.totpCode(secret, 0)}})
		if r.status == http.StatusSeeOther && r.location == "/ui/" || hasSessionCookie(r) {
			t.Errorf("an expired second step signed in: %d %s", r.status, r.location)
		}
	})
	t.Run("a recovery code signs in once and is audited", func(t *testing.T) {
		c := e.client()
		c.password("ana")
		r := c.post("/ui/login/verify", url.Values{"method": {"recovery"}, "code": {codes[3]}})
		if r.status != http.StatusSeeOther || !hasSessionCookie(r) {
			t.Fatalf("recovery code: %d %s", r.status, r.location)
		}
		if got := c.get(r.location).body; !strings.Contains(got, `id="recovery-left">9<`) {
			t.Error("the account page does not say 9 codes are left")
		}
		again := e.client()
		again.password("ana")
		if r := again.post("/ui/login/verify", url.Values{"method": {"recovery"}, "code": {codes[3]}}); r.status != http.StatusUnauthorized {
			t.Errorf("a used recovery code: %d", r.status)
		}
		if !auditHas(t, e.st, audit.KindRecoveryCodeUsed, "ana") {
			t.Error("no audit row for the recovery code")
		}
	})
	t.Run("wrong codes lock the account: the right password then gets the wrong-password page", func(t *testing.T) {
		e.addUser("bo", users.RoleViewer)
		bsecret, _ := e.enrolTOTP(e.signIn("bo"))
		_ = bsecret
		for range users.LockAfter {
			c := e.client()
			c.password("bo")
			c.post("/ui/login/verify", url.Values{"method": {"totp"}, "code": {"000000"}})
		}
		r := e.client().password("bo")
		if r.status != http.StatusUnauthorized {
			t.Errorf("password of a locked account: %d %s, want 401", r.status, r.location)
		}
	})
}

func auditHas(t *testing.T, st store.Store, kind, user string) bool {
	t.Helper()
	rows, err := st.AuditRows(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Kind == kind && strings.Contains(string(r.Details), `"user":"`+user+`"`) {
			return true
		}
	}
	return false
}

func TestRequiredMFA(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("root", users.RoleAdmin)
	e.addUser("cy", users.RoleViewer)
	e.addUser("dee", users.RoleViewer)
	admin := e.signIn("root")
	e.enrolTOTP(admin)
	dee := e.signIn("dee")
	csrf := admin.csrf("/ui/users/mfa")
	if r := admin.post("/ui/users/mfa/required", url.Values{"csrf": {csrf}, "required": {"on"}}); r.status != http.StatusSeeOther || r.location != "/ui/users/mfa?done=required" {
		t.Fatalf("require mfa: %d %s", r.status, r.location)
	}
	if r := dee.get("/ui/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/ui/login") {
		t.Errorf("the open session of an account without MFA: %d %s, want ended", r.status, r.location)
	}
	if r := admin.get("/ui/"); r.status != http.StatusOK {
		t.Errorf("the admin's session (with MFA): %d, want kept", r.status)
	}
	if !auditHas(t, e.st, audit.KindMFARequirement, "") && !strings.Contains(admin.get("/ui/users/mfa").body, "checked") {
		t.Error("the requirement was not recorded")
	}

	c := e.client()
	r := c.password("cy")
	if r.status != http.StatusSeeOther || r.location != "/ui/login/enrol" || hasSessionCookie(r) {
		t.Fatalf("password of an account without MFA: %d %s", r.status, r.location)
	}
	if r := c.get("/ui/devices"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/ui/login") {
		t.Errorf("a page before enrolling: %d %s", r.status, r.location)
	}
	page := c.get("/ui/login/enrol")
	m := secretRE.FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, `id="mfa-required"`) {
		t.Fatalf("enrolment page: %d", page.status)
	}
	if again := secretRE.FindStringSubmatch(c.get("/ui/login/enrol").body); again == nil || again[1] != m[1] {
		t.Error("a reload of the enrolment page shows another secret")
	}
	if r := c.post("/ui/login/enrol", url.Values{"code": {"000000"}}); r.status != http.StatusUnprocessableEntity || hasSessionCookie(r) {
		t.Errorf("a wrong enrolment code: %d", r.status)
	}
	r = c.post("/ui/login/enrol", url.Values{"code": {e.totpCode(m[1], 0)}})
	if r.status != http.StatusOK || !hasSessionCookie(r) || len(codesRE.FindAllString(r.body, -1)) != users.RecoveryCodeCount {
		t.Fatalf("confirm the enrolment: %d, session %v", r.status, hasSessionCookie(r))
	}
	if r := c.get("/ui/devices"); r.status != http.StatusOK {
		t.Errorf("a page after enrolling: %d", r.status)
	}

	if r := e.client().password("dee"); r.location != "/ui/login/enrol" {
		t.Errorf("dee's next sign-in: %s, want enrolment", r.location)
	}

	// A reset of cy's factors is audited and sends cy to enrol again.
	if r := admin.post("/ui/users/cy/mfa-reset", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("mfa reset: %d", r.status)
	}
	if !auditHas(t, e.st, audit.KindMFAReset, "cy") {
		t.Error("no audit row for the reset")
	}
	if r := e.client().password("cy"); r.location != "/ui/login/enrol" {
		t.Errorf("sign-in after a reset: %s, want enrolment", r.location)
	}
	viewer := c
	vcsrf := viewer.csrf("/ui/account")
	if r := viewer.post("/ui/users/root/mfa-reset", url.Values{"csrf": {vcsrf}}); r.status != http.StatusForbidden {
		t.Errorf("a viewer resetting the admin's MFA: %d, want 403", r.status)
	}
}

func TestRemoveTOTPTakesACode(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("ana", users.RoleAnalyst)
	c := e.signIn("ana")
	secret, _ := e.enrolTOTP(c)
	csrf := c.csrf("/ui/account")
	if r := c.post("/ui/account/totp/remove", url.Values{"csrf": {csrf}, "code": {"111111"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("remove with a wrong code: %d", r.status)
	}
	e.clock.Add(30 * time.Second)
	if r := c.post("/ui/account/totp/remove", url.Values{"csrf": {csrf}, "code": {e.totpCode(secret, 0)}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove with the right code: %d", r.status)
	}
	if r := e.client().password("ana"); r.location != "/ui/" {
		t.Errorf("sign-in after removing the app: %s, want no second step", r.location)
	}
	if st, _ := e.users.MFAStatus(t.Context(), "ana"); st.RecoveryCodes != 0 {
		t.Errorf("%d recovery codes outlive the last factor", st.RecoveryCodes)
	}
	// A new app comes with new codes.
	if _, codes := e.enrolTOTP(c); len(codes) != users.RecoveryCodeCount {
		t.Errorf("%d recovery codes with the new app", len(codes))
	}
}

func TestRequiringMFASignsOutTheAdminWithoutIt(t *testing.T) {
	e := newMFAEnv(t)
	e.addUser("root", users.RoleAdmin)
	admin := e.signIn("root")
	csrf := admin.csrf("/ui/users/mfa")
	r := admin.post("/ui/users/mfa/required", url.Values{"csrf": {csrf}, "required": {"on"}})
	if r.status != http.StatusSeeOther || r.location != "/ui/login?m=mfarequired" {
		t.Fatalf("require mfa without one's own: %d %s", r.status, r.location)
	}
	if r := admin.get("/ui/"); r.status != http.StatusSeeOther {
		t.Errorf("the admin's session after requiring MFA: %d, want ended", r.status)
	}
	if r := e.client().password("root"); r.location != "/ui/login/enrol" {
		t.Errorf("the admin's next sign-in: %s, want enrolment", r.location)
	}
}
