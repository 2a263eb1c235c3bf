package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/users"
)

func fleet() []dashtest.Device {
	devs := dashtest.Fleet(40, 3)
	return append(devs, dashtest.Device{ID: "dev_hostile", Hostname: "<script>alert(1)</script>", Org: "Eastside Clinic",
		Owner: "<img src=x onerror=alert(2)>", OS: "linux", OSName: "Ubuntu 24.04.1 LTS", OSVersion: "24.04", Compliant: false})
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("viewer", users.RoleViewer, true)
	ctx := e.session(t, "viewer", ownPassword)
	if got := text(ctx, t, "h1"); got != "Fleet overview" {
		t.Errorf("heading after sign-in %q", got)
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("analyst", users.RoleAnalyst, true)
	ctx := browser(t)
	for range 5 {
		if err := e.signIn(ctx, "analyst", "wrong-password"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.signIn(ctx, "analyst", ownPassword); err != nil {
		t.Fatal(err)
	}
	// The lock reads exactly as a wrong password: no page tells a
	// stranger which names exist or are locked.
	if got := text(ctx, t, "#login-error"); got != "Wrong user name or password." {
		t.Errorf("the right password after 5 failures says %q, want the wrong-password message", got)
	}
}

func TestForcedFirstPasswordChange(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("newbie", users.RoleViewer, false)
	ctx := e.session(t, "newbie", "Temporary-Pass1")
	if got := text(ctx, t, "#forced"); !strings.Contains(got, "first sign-in") {
		t.Fatalf("forced-change notice %q", got)
	}
	err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/ui/devices"), chromedp.WaitVisible("#forced"))
	if err != nil {
		t.Fatalf("the device list was reachable before the change: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=current]`, "Temporary-Pass1"),
		chromedp.SendKeys(`input[name=new]`, ownPassword),
		chromedp.SendKeys(`input[name=confirm]`, ownPassword),
	)
	if err == nil {
		err = submit(ctx, `button[type=submit]`)
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.WaitVisible(`.tiles`))
	}
	if err != nil {
		t.Fatalf("change password: %v", err)
	}
}

func TestFilterAndOpenDevice(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("viewer", users.RoleViewer, true)
	ctx := e.session(t, "viewer", ownPassword)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/ui/devices"),
		chromedp.WaitVisible(`select[name=status]`),
		chromedp.SetValue(`select[name=status]`, "noncompliant"),
	)
	if err == nil {
		err = submit(ctx, `form.filters button[type=submit]`)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(location(ctx, t), "status=noncompliant") {
		t.Fatalf("the filter did not apply: %s", location(ctx, t))
	}
	rows := evaluate[int](ctx, t, `document.querySelectorAll('#devices tbody a.host').length`)
	badges := evaluate[[]string](ctx, t, `[...document.querySelectorAll('#devices tbody .badge')].map(b => b.textContent)`)
	if rows == 0 {
		t.Fatal("no non-compliant device listed")
	}
	for _, b := range badges {
		if b != "Not compliant" {
			t.Errorf("filtered list shows a %q device", b)
		}
	}
	if err := submit(ctx, `#devices tbody a.host`); err != nil {
		t.Fatalf("open device: %v", err)
	}
	if !strings.Contains(location(ctx, t), "/ui/devices/dev_") {
		t.Errorf("opened %s", location(ctx, t))
	}
}

func TestExceptionsByRole(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("approver", users.RoleApprover, true)
	e.addUser("viewer", users.RoleViewer, true)
	t.Run("an approver grants an exception", func(t *testing.T) {
		ctx := e.session(t, "approver", ownPassword)
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.url+"/ui/devices/dev_hostile"),
			chromedp.WaitVisible(`#grant`),
			chromedp.SetValue(`#grant select[name=control]`, "antivirus"),
			chromedp.SendKeys(`#grant textarea[name=reason]`, "EDR migration until 30 June"),
		)
		if err == nil {
			err = submit(ctx, `#grant button[type=submit]`)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := text(ctx, t, "ul.plain"); !strings.Contains(got, "EDR migration until 30 June") {
			t.Errorf("exceptions on the device: %q", got)
		}
	})
	t.Run("a viewer has no grant form and the server refuses the action", func(t *testing.T) {
		ctx := e.session(t, "viewer", ownPassword)
		visit(ctx, t, e.url+"/ui/devices/dev_hostile", `table.controls`)
		forms := evaluate[int](ctx, t, `document.querySelectorAll('#grant').length`)
		status := evaluate[int](ctx, t, postWithToken(`/ui/devices/dev_hostile/exceptions`, true))
		if forms != 0 || status != 403 {
			t.Errorf("viewer: %d grant forms, POST status %d; want 0 and 403", forms, status)
		}
	})
}

// postWithToken posts a grant from the page's own origin, with the
// session's CSRF token (read from the sign-out form) or without it.
func postWithToken(path string, withToken bool) string {
	token := `''`
	if withToken {
		token = `document.querySelector('input[name=csrf]').value`
	}
	return `fetch('` + path + `', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: new URLSearchParams({csrf: ` + token + `, control: 'firewall', days: '7', reason: 'test'})}).then(r => r.status)`
}

func TestHostileHostnameIsText(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("viewer", users.RoleViewer, true)
	ctx := browser(t)
	dialogs := make(chan string, 4)
	err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- d.Message:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.signIn(ctx, "viewer", ownPassword); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ui/devices?q=script", "/ui/devices/dev_hostile"} {
		err := chromedp.Do(ctx, chromedp.Navigate(e.url+path), chromedp.WaitReady(`main`))
		select {
		case m := <-dialogs:
			t.Fatalf("%s opened a dialog: %q", path, m)
		default:
		}
		if err != nil {
			t.Fatal(err)
		}
		body := text(ctx, t, "main")
		if !strings.Contains(body, "<script>alert(1)</script>") {
			t.Errorf("%s does not show the hostname as text", path)
		}
	}
	select {
	case m := <-dialogs:
		t.Errorf("a dialog opened: %q", m)
	default:
	}
}

func TestStateChangeWithoutCSRFTokenIsRefused(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("approver", users.RoleApprover, true)
	ctx := e.session(t, "approver", ownPassword)
	visit(ctx, t, e.url+"/ui/devices/dev_hostile", `table.controls`)
	without := evaluate[int](ctx, t, postWithToken(`/ui/devices/dev_hostile/exceptions`, false))
	with := evaluate[int](ctx, t, postWithToken(`/ui/devices/dev_hostile/exceptions`, true))
	if without != 403 || with != 200 {
		t.Errorf("POST without token %d (want 403), with token %d (want 200 after the redirect)", without, with)
	}
}

func TestSessionExpiresAfter20IdleMinutes(t *testing.T) {
	e := newEnv(t, fleet())
	e.addUser("viewer", users.RoleViewer, true)
	ctx := e.session(t, "viewer", ownPassword)
	e.clock.Add(20 * time.Minute)
	err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/ui/devices"), chromedp.WaitVisible(`input[name=username]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(ctx, t, ".banner.info"); !strings.Contains(got, "20 minutes") {
		t.Errorf("expiry message %q", got)
	}
}
