package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/users"
)

// totpCode is the authenticator app's code for secret at the test clock:
// the server's clock, never the wall clock.
func (e *env) totpCode(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// cookieNames lists the names of the browser's cookies for the dashboard,
// HttpOnly ones included.
func cookieNames(ctx context.Context, t *testing.T, url string) []string {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Cookies {
		names = append(names, c.Name)
	}
	return names
}

// fillAndSubmit types value into the form's code field and submits it.
func fillAndSubmit(ctx context.Context, t *testing.T, form, value string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetValue(form+` input[name=code]`, value)); err != nil {
		t.Fatalf("fill %s: %v", form, err)
	}
	if err := submit(ctx, form+` button[type=submit]`); err != nil {
		t.Fatalf("submit %s: %v", form, err)
	}
}

// enrolTOTP scans nothing but reads the secret shown beside the QR code,
// as a user typing it into an app would, and confirms it; it returns the
// secret and the recovery codes shown once.
func (e *env) enrolTOTP(ctx context.Context, t *testing.T) (string, []string) {
	t.Helper()
	secret := text(ctx, t, "#totp-secret")
	if w := evaluate[int](ctx, t, `document.querySelector('#totp-qr').naturalWidth`); w == 0 {
		t.Error("the QR code did not load (blocked by the page's CSP?)")
	}
	// Signed in, adding a factor takes the current password too.
	if evaluate[bool](ctx, t, `!!document.querySelector('#totp-confirm input[name=password]')`) {
		if err := chromedp.Do(ctx, chromedp.SendKeys(`#totp-confirm input[name=password]`, ownPassword)); err != nil {
			t.Fatal(err)
		}
	}
	fillAndSubmit(ctx, t, "#totp-confirm", e.totpCode(secret))
	codes := strings.Fields(text(ctx, t, "#recovery-codes"))
	if len(codes) != users.RecoveryCodeCount {
		t.Fatalf("recovery codes %q, want %d", codes, users.RecoveryCodeCount)
	}
	if err := submit(ctx, "#codes-continue"); err != nil {
		t.Fatal(err)
	}
	return secret, codes
}

// TestTOTPEnrolmentAndSignIn sets up an authenticator app from the
// account page, then signs in with its code in a fresh browser: wrong,
// replayed and recovery codes included.
func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("ana", users.RoleAnalyst, true)
	ctx := e.session(t, "ana", ownPassword)
	visit(ctx, t, e.url+"/ui/account", "#totp-setup")
	if err := submit(ctx, "#totp-setup"); err != nil {
		t.Fatal(err)
	}
	secret, codes := e.enrolTOTP(ctx, t)
	if got := text(ctx, t, "#totp-state"); got != "On" {
		t.Fatalf("account page after enrolment says %q", got)
	}
	e.clock.Add(time.Minute)

	b := browser(t)
	if err := e.signIn(b, "ana", ownPassword); err != nil {
		t.Fatal(err)
	}
	if loc := location(b, t); !strings.HasSuffix(loc, "/ui/login/verify") {
		t.Fatalf("after the password: %s, want the second step", loc)
	}
	if names := strings.Join(cookieNames(b, t, e.url), " "); names != dashboard.ChallengeCookie {
		t.Errorf("cookies after the password: %q, want only %s (no session)", names, dashboard.ChallengeCookie)
	}
	fillAndSubmit(b, t, "#totp-form", "000000")
	if msg := text(b, t, "#mfa-error"); !strings.Contains(msg, "Wrong or already used code") {
		t.Errorf("wrong code: %q", msg)
	}
	code := e.totpCode(secret)
	fillAndSubmit(b, t, "#totp-form", code)
	if err := chromedp.Do(b, chromedp.WaitVisible(`.tiles`)); err != nil {
		t.Fatalf("the overview after the right code: %v", err)
	}

	// The same code in another browser within its 30 seconds.
	thief := browser(t)
	if err := e.signIn(thief, "ana", ownPassword); err != nil {
		t.Fatal(err)
	}
	fillAndSubmit(thief, t, "#totp-form", code)
	if msg := text(thief, t, "#mfa-error"); !strings.Contains(msg, "already used") {
		t.Errorf("replayed code: %q", msg)
	}
	if loc := location(thief, t); !strings.HasSuffix(loc, "/ui/login/verify") {
		t.Errorf("replayed code led to %s", loc)
	}

	// A recovery code instead of the app.
	lost := browser(t)
	if err := e.signIn(lost, "ana", ownPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(lost, chromedp.Click(`details summary`)); err != nil {
		t.Fatal(err)
	}
	fillAndSubmit(lost, t, "#recovery-form", strings.ToUpper(codes[0]))
	if msg := text(lost, t, "#account-notice"); !strings.Contains(msg, "recovery code") {
		t.Errorf("after a recovery code: %q", msg)
	}
	if left := text(lost, t, "#recovery-left"); left != "9" {
		t.Errorf("recovery codes left %s, want 9", left)
	}
}

// TestRequiredMFAEnrolment: with MFA required by an administrator, an
// account without it sets up an app at sign-in before any page.
func TestRequiredMFAEnrolment(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin, true)
	e.addUser("sam", users.RoleViewer, true)
	admin := e.session(t, "admin", ownPassword)
	visit(admin, t, e.url+"/ui/users/mfa", `input[name=required]`)
	if err := chromedp.Do(admin, chromedp.Click(`input[name=required]`)); err != nil {
		t.Fatal(err)
	}
	if err := submit(admin, `form[action="/ui/users/mfa/required"] button[type=submit]`); err != nil {
		t.Fatal(err)
	}
	// The administrator has no second factor either: requiring it signed
	// them out, to enrol at their next sign-in.
	if msg := text(admin, t, "p.banner.info"); !strings.Contains(msg, "now required") {
		t.Fatalf("after requiring MFA: %q", msg)
	}

	b := browser(t)
	if err := e.signIn(b, "sam", ownPassword); err != nil {
		t.Fatal(err)
	}
	if got := text(b, t, "#mfa-required"); got == "" {
		t.Fatal("no enrolment demanded")
	}
	visit(b, t, e.url+"/ui/devices", "form")
	if loc := location(b, t); !strings.Contains(loc, "/ui/login") {
		t.Fatalf("a page before enrolling: %s", loc)
	}
	if err := e.signIn(b, "sam", ownPassword); err != nil {
		t.Fatal(err)
	}
	e.enrolTOTP(b, t)
	if err := chromedp.Do(b, chromedp.WaitVisible(`.tiles`)); err != nil {
		t.Fatalf("the overview after enrolling: %v", err)
	}
}
