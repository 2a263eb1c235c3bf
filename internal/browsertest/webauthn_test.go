package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/users"
)

// addVirtualAuthenticator gives the browser's tab a CTAP2 USB security
// key (Chromium's virtual authenticator, CDP WebAuthn domain) that
// answers without a touch.
func addVirtualAuthenticator(ctx context.Context, t *testing.T) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Action[cdp.Empty](func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		off := false
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{EnableUI: &off}); err != nil {
			return cdp.Empty{}, err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		return cdp.Empty{}, err
	}))
	if err != nil {
		t.Fatalf("add a virtual authenticator: %v", err)
	}
}

// TestSecurityKeyInChromium registers Chromium's virtual security key
// from the account page through static/webauthn.js (under the dashboard's
// CSP) and signs in with it as the second factor. The dashboard is
// reached as localhost: WebAuthn refuses IP addresses.
func TestSecurityKeyInChromium(t *testing.T) {
	e := newEnv(t, nil)
	e.url = strings.Replace(e.url, "127.0.0.1", "localhost", 1)
	e.addUser("ana", users.RoleAnalyst, true)
	b := browser(t)
	addVirtualAuthenticator(b, t)
	if err := e.signIn(b, "ana", ownPassword); err != nil {
		t.Fatal(err)
	}
	visit(b, t, e.url+"/ui/account", `button[data-webauthn=register]`)
	if err := chromedp.Do(b, chromedp.SendKeys(`#webauthn-register input[name=name]`, "virtual key"),
		chromedp.SendKeys(`#webauthn-register input[name=password]`, ownPassword),
		chromedp.Click(`button[data-webauthn=register]`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.WaitVisible(`#recovery-codes`)); err != nil {
		msg, _ := chromedp.Run(b, chromedp.Evaluate[string](`(document.querySelector('[data-webauthn-error]')||{}).textContent||''`))
		t.Fatalf("register the key: %v (page says %q)", err, msg)
	}
	if err := submit(b, "#codes-continue"); err != nil {
		t.Fatal(err)
	}
	if got := text(b, t, "#account-notice"); !strings.Contains(got, "security key is registered") {
		t.Errorf("after registering: %q", got)
	}
	if err := submit(b, `form[action="/ui/logout"] button`); err != nil {
		t.Fatal(err)
	}

	if err := e.signIn(b, "ana", ownPassword); err != nil {
		t.Fatal(err)
	}
	if loc := location(b, t); !strings.HasSuffix(loc, "/ui/login/verify") {
		t.Fatalf("after the password: %s, want the second step", loc)
	}
	if err := chromedp.Do(b, chromedp.WaitVisible(`button[data-webauthn=login]`), chromedp.Click(`button[data-webauthn=login]`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.WaitVisible(`.tiles`)); err != nil {
		msg, _ := chromedp.Run(b, chromedp.Evaluate[string](`(document.querySelector('[data-webauthn-error]')||{}).textContent||''`))
		t.Fatalf("sign in with the key: %v (page says %q)", err, msg)
	}
}
