package dashboard

import (
	"errors"
	"net/http"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// The signed-in user's own second factors: an authenticator app (TOTP),
// security keys and recovery codes (/ui/account).

type keyView struct {
	ID, Name, RPID string
	Created, Used  string
}

type accountView struct {
	Notice, Error string
	Status        users.MFAStatus
	Required      bool
	Keys          []keyView
	// KeysHere is false when this host cannot be a WebAuthn relying
	// party (an IP address, or a name not configured); KeysWhy says why.
	KeysHere bool
	KeysWhy  string
	// OIDC accounts get their second factor from the identity provider.
	OIDC bool
}

var accountNotices = map[string]string{
	"totp":        "Your authenticator app is set up: sign-ins now ask for its code.",
	"totpremoved": "Your authenticator app was removed.",
	"key":         "Your security key is registered.",
	"keyremoved":  "The security key was removed.",
	"recovery":    "You signed in with a recovery code, which no longer works. Make new codes below if you are running low.",
}

func (d *Dashboard) accountPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.renderAccount(w, r, s, http.StatusOK, accountView{Notice: accountNotices[r.URL.Query().Get("done")]})
}

func (d *Dashboard) renderAccount(w http.ResponseWriter, r *http.Request, s *signedIn, status int, v accountView) {
	ctx := r.Context()
	v.OIDC = s.User.OIDC()
	var err error
	if v.Status, err = d.cfg.Users.MFAStatus(ctx, s.User.Username); err != nil {
		d.internal(w, r, s, err)
		return
	}
	if v.Required, err = d.cfg.Users.MFARequired(ctx); err != nil {
		d.internal(w, r, s, err)
		return
	}
	keys, err := d.st.WebAuthnCredentials(ctx, s.User.Username)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	for _, k := range keys {
		kv := keyView{ID: k.ID, Name: k.Name, RPID: k.RPID, Created: k.CreatedAt.UTC().Format("2 Jan 2006"), Used: "never"}
		if !k.LastUsedAt.IsZero() {
			kv.Used = k.LastUsedAt.UTC().Format("2 Jan 2006 15:04 UTC")
		}
		v.Keys = append(v.Keys, kv)
	}
	if _, _, err := d.relyingParty(r); err != nil {
		v.KeysWhy = capitalize(err.Error()) + "."
	} else {
		v.KeysHere = true
	}
	d.render(w, r, s, status, "account", "Account security", v)
}

// totpPage shows a new authenticator app secret to the signed-in user.
func (d *Dashboard) totpPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	st, err := d.cfg.Users.MFAStatus(r.Context(), s.User.Username)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	if st.TOTP {
		http.Redirect(w, r, "/ui/account", http.StatusSeeOther)
		return
	}
	d.renderEnrol(w, r, s, s.User.Username, http.StatusOK, "", "/ui/account/totp")
}

// passwordAgain checks the signed-in user's current password before a
// second factor is added, removed or replaced (recovery codes), so that
// a session left open or stolen is not enough to plant, take or strip one. A wrong password counts as a failed sign-in;
// when that locks the account the session ends. It answers and returns
// false on refusal.
func (d *Dashboard) passwordAgain(w http.ResponseWriter, r *http.Request, s *signedIn, refuse func(msg string)) bool {
	ctx := r.Context()
	_, err := d.cfg.Users.PasswordFrom(ctx, sourceAddr(r), s.User.Username, r.PostForm.Get("password"))
	if err == nil {
		return true
	}
	if !errors.Is(err, users.ErrBadCredentials) {
		d.internal(w, r, s, err)
		return false
	}
	if d.cfg.Users.AllowSecondFactor(ctx, users.SecondFactor{Source: sourceAddr(r), Username: s.User.Username}) != nil {
		d.st.DeleteUserSessions(ctx, s.User.Username)
		clearSessionCookie(w)
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return false
	}
	refuse("Your current password is wrong.")
	return false
}

// confirmTOTP switches the signed-in user's authenticator app on.
func (d *Dashboard) confirmTOTP(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if !d.passwordAgain(w, r, s, func(msg string) {
		d.renderEnrol(w, r, s, s.User.Username, http.StatusUnprocessableEntity, msg, "/ui/account/totp")
	}) {
		return
	}
	codes, err := d.cfg.Users.ConfirmTOTP(r.Context(), s.User.Username, r.PostForm.Get("code"))
	if errors.Is(err, users.ErrBadCode) {
		d.renderEnrol(w, r, s, s.User.Username, http.StatusUnprocessableEntity,
			"That code does not match: check the phone's time and enter the code shown now.", "/ui/account/totp")
		return
	}
	if err != nil {
		d.fail(w, r, s, http.StatusConflict, capitalize(err.Error())+".")
		return
	}
	d.showRecoveryCodes(w, r, s, codes, "/ui/account?done=totp")
}

// removeTOTP switches the authenticator app off; it takes a current code,
// so that a session left open is not enough to remove the factor.
func (d *Dashboard) removeTOTP(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	f := users.SecondFactor{Source: sourceAddr(r), Username: s.User.Username}
	if err := d.cfg.Users.VerifyTOTP(ctx, f, r.PostForm.Get("code")); err != nil {
		if !errors.Is(err, users.ErrBadCode) {
			d.internal(w, r, s, err)
			return
		}
		if d.cfg.Users.AllowSecondFactor(ctx, f) != nil {
			d.st.DeleteUserSessions(ctx, s.User.Username)
			clearSessionCookie(w)
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: "Wrong or already used code: the authenticator app stays."})
		return
	}
	if err := d.cfg.Users.RemoveTOTP(ctx, s.User.Username); err != nil {
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/account?done=totpremoved", http.StatusSeeOther)
}

// newRecoveryCodes replaces the user's recovery codes and shows the new
// ones once.
func (d *Dashboard) newRecoveryCodes(w http.ResponseWriter, r *http.Request, s *signedIn) {
	// New codes are a second factor shown to whoever holds the session:
	// they take the password, as adding an app or a key does.
	if !d.passwordAgain(w, r, s, func(msg string) {
		d.renderAccount(w, r, s, http.StatusUnprocessableEntity, accountView{Error: msg + " No new recovery codes were made."})
	}) {
		return
	}
	st, err := d.cfg.Users.MFAStatus(r.Context(), s.User.Username)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	if !st.Enrolled() {
		d.renderAccount(w, r, s, http.StatusConflict, accountView{Error: "Set up an authenticator app or a security key first: recovery codes stand in for them."})
		return
	}
	codes, err := d.cfg.Users.NewRecoveryCodes(r.Context(), "user:"+s.User.Username, s.User.Username)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.showRecoveryCodes(w, r, s, codes, "/ui/account")
}

// mfaResetUser removes every second factor of another account (a lost
// phone); audited as the administrator's act.
func (d *Dashboard) mfaResetUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	name := r.PathValue("name")
	err := d.cfg.Users.ResetMFA(r.Context(), "user:"+s.User.Username, name)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/users/mfa?done=reset", http.StatusSeeOther)
}

// setMFARequired switches the requirement for every local account.
func (d *Dashboard) setMFARequired(w http.ResponseWriter, r *http.Request, s *signedIn) {
	on := r.PostForm.Get("required") == "on"
	err := d.cfg.Users.SetMFARequired(r.Context(), "user:"+s.User.Username, on)
	if errors.Is(err, users.ErrMFAConfigured) {
		d.fail(w, r, s, http.StatusConflict, capitalize(err.Error())+".")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	done := "notrequired"
	if on {
		done = "required"
		// Switching it on ended the sessions of every account without a
		// second factor, the administrator's own included.
		if st, err := d.cfg.Users.MFAStatus(r.Context(), s.User.Username); err == nil && !st.Enrolled() && !s.User.OIDC() {
			clearSessionCookie(w)
			http.Redirect(w, r, "/ui/login?m=mfarequired", http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/ui/users/mfa?done="+done, http.StatusSeeOther)
}

type mfaAdminRow struct {
	Username, Name string
	Status         users.MFAStatus
	OIDC           bool
}

type mfaAdminView struct {
	Notice   string
	Required bool
	// Configured: the server's configuration requires MFA.
	Configured bool
	Users      []mfaAdminRow
}

var mfaAdminNotices = map[string]string{
	"reset":       "The account's second factors were removed.",
	"required":    "A second factor is now required: accounts without one were signed out and set it up at their next sign-in.",
	"notrequired": "A second factor is no longer required.",
}

// mfaAdminPage lists every account's second factors, with the
// requirement switch and the reset.
func (d *Dashboard) mfaAdminPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	list, err := d.cfg.Users.List(ctx)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v := mfaAdminView{Notice: mfaAdminNotices[r.URL.Query().Get("done")], Configured: d.cfg.Users.MFARequiredByConfig()}
	if v.Required, err = d.cfg.Users.MFARequired(ctx); err != nil {
		d.internal(w, r, s, err)
		return
	}
	for _, u := range list {
		st, err := d.cfg.Users.MFAStatus(ctx, u.Username)
		if err != nil {
			d.internal(w, r, s, err)
			return
		}
		v.Users = append(v.Users, mfaAdminRow{Username: u.Username, Name: u.FirstName + " " + u.LastName, Status: st, OIDC: u.OIDC()})
	}
	d.render(w, r, s, http.StatusOK, "mfa_admin", "Second factors", v)
}

// mfaRoutes registers the second step of sign-in, the user's own
// factors and the administrator's MFA page.
func (d *Dashboard) mfaRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /ui/login/verify", d.verifyPage)
	m.HandleFunc("POST /ui/login/verify", d.verify)
	m.HandleFunc("GET /ui/login/enrol", d.enrolPage)
	m.HandleFunc("POST /ui/login/enrol", d.enrol)
	m.HandleFunc("POST /ui/login/enrol/keys/options", d.enrolKeyOptions)
	m.HandleFunc("POST /ui/login/enrol/keys", d.enrolKey)
	m.HandleFunc("POST /ui/login/webauthn/options", d.loginOptions)
	m.HandleFunc("POST /ui/login/webauthn", d.loginWebAuthn)

	m.Handle("GET /ui/account", d.page("", d.accountPage))
	m.Handle("GET /ui/account/totp", d.page("", d.totpPage))
	m.Handle("POST /ui/account/totp", d.action("", d.confirmTOTP))
	m.Handle("POST /ui/account/totp/remove", d.action("", d.removeTOTP))
	m.Handle("POST /ui/account/recovery-codes", d.action("", d.newRecoveryCodes))
	m.Handle("POST /ui/account/keys/options", d.action("", d.keyOptions))
	m.Handle("POST /ui/account/keys", d.action("", d.addKey))
	m.Handle("POST /ui/account/keys/{id}/remove", d.action("", d.removeKey))

	m.Handle("GET /ui/users/mfa", d.page(users.PermUsers, d.mfaAdminPage))
	m.Handle("POST /ui/users/mfa/required", d.action(users.PermUsers, d.setMFARequired))
	m.Handle("POST /ui/users/{name}/mfa-reset", d.action(users.PermUsers, d.mfaResetUser))
}
