package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/users"
)

// TestAdminDisablesAccount: disabling ends the user's open session in
// their browser at once, and their right password then reads as a wrong
// one; enabling brings the account back.
func TestAdminDisablesAccount(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin, true)
	e.addUser("carl", users.RoleAnalyst, true)
	carl := e.session(t, "carl", ownPassword)
	visit(carl, t, e.url+"/ui/", ".tiles")

	admin := e.session(t, "admin", ownPassword)
	visit(admin, t, e.url+"/ui/users", "#user-carl")
	if err := submit(admin, `#user-carl form[action="/ui/users/carl/disable"] button`); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if got := text(admin, t, "#user-carl .state"); !strings.Contains(got, "Disabled") || !strings.Contains(got, "user:admin") {
		t.Errorf("carl's state after disable %q, want Disabled by user:admin", got)
	}

	if err := chromedp.Do(carl, chromedp.Navigate(e.url+"/ui/devices"), chromedp.WaitVisible(`input[name=username]`)); err != nil {
		t.Fatalf("carl's open session after the disable did not end at the sign-in page: %v", err)
	}
	if err := e.signIn(carl, "carl", ownPassword); err != nil {
		t.Fatal(err)
	}
	if got := text(carl, t, ".banner.error"); !strings.Contains(got, "Wrong user name or password") {
		t.Errorf("a disabled account's right password says %q, want the wrong-password answer", got)
	}

	visit(admin, t, e.url+"/ui/users", "#user-carl")
	if err := submit(admin, `#user-carl form[action="/ui/users/carl/enable"] button`); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := e.signIn(carl, "carl", ownPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(carl, chromedp.WaitVisible(`.tiles`)); err != nil {
		t.Errorf("carl after enable did not reach the overview: %v", err)
	}
}

// TestAdminResetsPassword: the temporary password is shown once, the
// user's session ends, and the next sign-in must change it before any
// other page.
func TestAdminResetsPassword(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin, true)
	e.addUser("carl", users.RoleAnalyst, true)
	carl := e.session(t, "carl", ownPassword)
	visit(carl, t, e.url+"/ui/", ".tiles")

	admin := e.session(t, "admin", ownPassword)
	visit(admin, t, e.url+"/ui/users", "#user-carl")
	if err := submit(admin, `#user-carl form[action="/ui/users/carl/reset-password"] button`); err != nil {
		t.Fatalf("reset: %v", err)
	}
	temp := text(admin, t, "#reset-password")
	if len(temp) != 20 {
		t.Fatalf("temporary password %q, want 20 characters", temp)
	}

	if err := chromedp.Do(carl, chromedp.Navigate(e.url+"/ui/devices"), chromedp.WaitVisible(`input[name=username]`)); err != nil {
		t.Fatalf("carl's session after the reset did not end: %v", err)
	}
	if err := e.signIn(carl, "carl", temp); err != nil {
		t.Fatal(err)
	}
	if got := text(carl, t, "#forced"); got == "" {
		t.Fatal("the sign-in after the reset did not force a password change")
	}
	if err := chromedp.Do(carl, chromedp.Navigate(e.url+"/ui/devices"), chromedp.WaitVisible(`#forced`)); err != nil {
		t.Errorf("another page before the change: %v", err)
	}
	const next = "Orchard-Window-77"
	err := chromedp.Do(carl,
		chromedp.SendKeys(`input[name=current]`, temp),
		chromedp.SendKeys(`input[name=new]`, next),
		chromedp.SendKeys(`input[name=confirm]`, next),
	)
	if err == nil {
		err = submit(carl, `button[type=submit]`)
	}
	if err == nil {
		err = chromedp.Do(carl, chromedp.WaitVisible(`.tiles`))
	}
	if err != nil {
		t.Fatalf("change the temporary password: %v", err)
	}
	if u, _ := e.st.User(t.Context(), "carl"); u.MustChange {
		t.Error("carl must still change the password after changing it")
	}
}
