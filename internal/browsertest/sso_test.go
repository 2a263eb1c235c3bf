package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/oidctest"
	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// TestSSOSignInThroughTheProvidersLoginPage signs in to the dashboard in
// Chromium through a real OpenID provider's login page. The browser
// reaches the dashboard as localhost and the provider as 127.0.0.1: two
// sites, so the provider's redirect back is cross-site, as in
// production, and the state cookie (SameSite=Lax) and the session
// cookie (SameSite=Strict) are tried as browsers treat them.
func TestSSOSignInThroughTheProvidersLoginPage(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The provider dates its tokens by the wall clock.
	c := &clock{t: time.Now()}
	us, err := users.New(users.Config{Store: st, Params: users.Params{Memory: 1024, Time: 1, Threads: 1}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	idp := oidctest.Start(t, oidctest.Config{ClientID: "postern", ClientSecret: "client-secret-of-postern",
		RedirectURIs: []string{base + dashboard.OIDCCallbackPath},
		Users: []oidctest.User{{Subject: "sub-ana", Username: "ana.lima", Password: "idp-pass", GivenName: "Ana", FamilyName: "Lima",
			Groups: []string{"postern-admins"}}}})
	pol := checks.DefaultPolicy()
	set := fixedSet{&policy.Set{Version: 1, Default: &policy.Profile{Policy: pol}}}
	eng := decision.NewEngine(decision.EngineConfig{Store: st, Policies: set, Now: c.Now})
	d, err := dashboard.New(dashboard.Config{Store: st, Users: us, Decisions: eng, Policy: func() *checks.Policy { return pol }, Now: c.Now,
		LocalSignIn: dashboard.LocalSignInOff,
		OIDC: &dashboard.OIDCConfig{Issuer: idp.Issuer, ClientID: "postern", ClientSecret: "client-secret-of-postern",
			RedirectURL: base + dashboard.OIDCCallbackPath, Scopes: []string{"profile", "groups"}, DisplayName: "County SSO",
			Roles: users.RoleMapping{users.RoleAdmin: {"postern-admins"}}, HTTPClient: idp.HTTPClient()}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Mount(mux)
	srv.Config.Handler = mux

	b := browser(t)
	if err := chromedp.Do(b, chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(`#sso`)); err != nil {
		t.Fatal(err)
	}
	forms, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name=password]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if forms != 0 {
		t.Error("the password form is shown while password sign-in is off")
	}
	if err := submit(b, `#sso`); err != nil {
		t.Fatal(err)
	}
	if loc := location(b, t); !strings.HasPrefix(loc, idp.Issuer+"/login") {
		t.Fatalf("the browser is at %s, want the provider's login page", loc)
	}
	if err := chromedp.Do(b, chromedp.SendKeys(`#idp-username`, "ana.lima"), chromedp.SendKeys(`#idp-password`, "idp-pass")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Click(`#idp-submit`)); err != nil {
		t.Fatal(err)
	}
	// The callback's page moves on to the overview by itself.
	if err := chromedp.Do(b, chromedp.WaitVisible(`nav[aria-label=Main]`)); err != nil {
		t.Fatalf("the dashboard did not open after the provider's sign-in (at %s): %v", location(b, t), err)
	}
	if loc := location(b, t); loc != base+"/ui/" {
		t.Errorf("signed in at %s, want %s/ui/", loc, base)
	}
	if who := text(b, t, `.who`); !strings.Contains(who, "Ana Lima") || !strings.Contains(who, "admin") {
		t.Errorf("the header names %q, want Ana Lima, admin", who)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/ui/users"), chromedp.WaitVisible(`nav[aria-label=Main]`)); err != nil {
		t.Fatal(err)
	}
	if h := text(b, t, `h1`); !strings.Contains(h, "Users") {
		t.Errorf("the users page's heading is %q", h)
	}
	u, err := st.User(ctx, "ana.lima")
	if err != nil || !u.OIDC() || u.Role != "admin" {
		t.Errorf("account %+v, %v", u, err)
	}
}
