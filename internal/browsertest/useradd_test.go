package browsertest

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/users"
)

// TestAdminAddsAccount walks the add-account form: the initial password
// is shown once, and the new user must replace it at first sign-in.
func TestAdminAddsAccount(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("admin", users.RoleAdmin, true)
	ctx := e.session(t, "admin", ownPassword)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/ui/users"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "sam.okafor"),
		chromedp.SendKeys(`input[name=first_name]`, "Sam"),
		chromedp.SendKeys(`input[name=last_name]`, "Okafor"),
		chromedp.SetValue(`select[name=role]`, "analyst"),
	)
	if err == nil {
		err = submit(ctx, `form[action="/ui/users"] button[type=submit]`)
	}
	if err != nil {
		t.Fatalf("add account: %v", err)
	}
	initial := text(ctx, t, "#new-password")
	if len(initial) != 20 {
		t.Fatalf("initial password %q, want 20 characters", initial)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/ui/users"), chromedp.WaitVisible(`table`)); err != nil {
		t.Fatal(err)
	}
	if n := evaluate[int](ctx, t, `document.querySelectorAll('#new-password').length`); n != 0 {
		t.Error("the initial password is shown again after a reload")
	}
	if row := evaluate[string](ctx, t, `[...document.querySelectorAll('tbody tr')].map(r => r.textContent).find(t => t.includes('sam.okafor')) || ''`); row == "" {
		t.Error("the users list lacks the new account")
	}

	newcomer := browser(t)
	if err := e.signIn(newcomer, "sam.okafor", initial); err != nil {
		t.Fatal(err)
	}
	if got := text(newcomer, t, "#forced"); got == "" {
		t.Fatal("the first sign-in did not force a password change")
	}
	err = chromedp.Do(newcomer,
		chromedp.SendKeys(`input[name=current]`, initial),
		chromedp.SendKeys(`input[name=new]`, ownPassword),
		chromedp.SendKeys(`input[name=confirm]`, ownPassword),
	)
	if err == nil {
		err = submit(newcomer, `button[type=submit]`)
	}
	if err == nil {
		err = chromedp.Do(newcomer, chromedp.WaitVisible(`.tiles`))
	}
	if err != nil {
		t.Fatalf("change the initial password: %v", err)
	}
	acc := e.st
	u, err := acc.User(t.Context(), "sam.okafor")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != string(users.RoleAnalyst) || u.MustChange {
		t.Errorf("new account role %q, must change %v; want analyst, false", u.Role, u.MustChange)
	}
}
