package dashboard

import (
	"errors"
	"net"
	"net/http"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

type loginView struct {
	Message, Error, Username string
	// SSO names the OpenID provider offered (empty for none); Local
	// offers the password form (signInOptions fills both).
	SSO   string
	Local bool
}

var loginMessages = map[string]string{
	"expired":   "Your session ended after 20 minutes without activity. Sign in again.",
	"signedout": "You are signed out.",
	"changed":   "Password changed.",

	"mfarequired": "A second factor is now required of every account: sign in again to set yours up.",
	"mfaexpired":  "The second step took more than 5 minutes, or was opened in another browser. Sign in again.",
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, nil, http.StatusOK, "login", "Sign in", loginView{Message: loginMessages[r.URL.Query().Get("m")]})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		d.render(w, r, nil, http.StatusBadRequest, "login", "Sign in", loginView{Error: "The sign-in form could not be read."})
		return
	}
	name, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	if !d.localAllowed(r) {
		d.refuseLocal(w, r, name)
		return
	}
	// A locked account, an unknown name and a throttled address all get
	// the wrong-password answer: no answer tells which names exist.
	u, err := d.cfg.Users.PasswordFrom(r.Context(), sourceAddr(r), name, pw)
	if err != nil {
		msg := "Wrong user name or password."
		status := http.StatusUnauthorized
		switch {
		case !errors.Is(err, users.ErrBadCredentials):
			d.log.Error("sign-in failed", "err", err)
			msg, status = "Sign-in is unavailable; try again later.", http.StatusInternalServerError
		}
		d.log.Info("sign-in refused", "user", truncate(name, 64), "remote", r.RemoteAddr)
		d.render(w, r, nil, status, "login", "Sign in", loginView{Error: msg, Username: truncate(name, 64)})
		return
	}
	// An account with a second factor (or that must enrol one) goes on
	// to the second step (mfa.go) without a session.
	if d.secondStep(w, r, u) {
		return
	}
	if err := d.startSession(w, r, u); err != nil {
		d.log.Error("create session failed", "err", err)
		d.render(w, r, nil, http.StatusInternalServerError, "login", "Sign in", loginView{Error: "Sign-in is unavailable; try again later."})
		return
	}
	d.log.Info("signed in", "user", u.Username)
	d.auditSignIn(r, u, factorNone)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// startSession issues a fresh session ID at every sign-in, so that an ID
// planted before sign-in is worthless.
func (d *Dashboard) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	id, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	now := d.now()
	if err := d.st.CreateSession(r.Context(), store.Session{IDHash: store.HashSecret([]byte(id)), Username: u.Username,
		CSRFToken: csrf, CreatedAt: now, LastSeenAt: now}); err != nil {
		return err
	}
	setSessionCookie(w, id)
	return nil
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.st.DeleteSession(r.Context(), s.Session.IDHash)
	clearSessionCookie(w)
	d.cfg.Audit.Record(r.Context(), audit.Entry{Actor: "user:" + s.User.Username, Kind: audit.KindSignedOut,
		Details: map[string]any{"user": s.User.Username}})
	http.Redirect(w, r, "/ui/login?m=signedout", http.StatusSeeOther)
}

type passwordView struct {
	Forced  bool
	Reason  string
	Errors  []string
	Expires string
}

func (d *Dashboard) passwordView(s *signedIn) passwordView {
	v := passwordView{Forced: d.cfg.Users.MustChangePassword(s.User)}
	switch {
	case s.User.MustChange:
		v.Reason = "This is your first sign-in: choose your own password."
	case v.Forced:
		v.Reason = "Your password is older than 90 days: choose a new one."
	}
	v.Expires = users.PasswordAge(s.User.PasswordChangedAt, d.now()).ExpiresAt.Format("2 Jan 2006")
	return v
}

func (d *Dashboard) passwordPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.render(w, r, s, http.StatusOK, "password", "Change password", d.passwordView(s))
}

func (d *Dashboard) changePassword(w http.ResponseWriter, r *http.Request, s *signedIn) {
	v := d.passwordView(s)
	cur, next, again := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("confirm")
	var err error
	if next != again {
		err = errors.New("the two new passwords differ")
	} else {
		err = d.cfg.Users.ChangePassword(r.Context(), s.User.Username, cur, next)
	}
	if err != nil {
		var re *users.RuleError
		switch {
		case errors.As(err, &re):
			v.Errors = re.Problems
		case errors.Is(err, users.ErrBadCredentials):
			// Guessing the current password in a stolen session locks the
			// account like guessing at sign-in, and the lock ends the session.
			if u, uerr := d.st.User(r.Context(), s.User.Username); uerr == nil && u.Locked() {
				d.st.DeleteUserSessions(r.Context(), s.User.Username)
				clearSessionCookie(w)
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			v.Errors = []string{"The current password is wrong."}
		default:
			v.Errors = []string{capitalize(err.Error()) + "."}
		}
		d.render(w, r, s, http.StatusUnprocessableEntity, "password", "Change password", v)
		return
	}
	// End every session of the user, this one included: a password change
	// must evict whoever else holds a session.
	d.st.DeleteUserSessions(r.Context(), s.User.Username)
	u, err := d.st.User(r.Context(), s.User.Username)
	if err == nil {
		err = d.startSession(w, r, u)
	}
	if err != nil {
		clearSessionCookie(w)
		http.Redirect(w, r, "/ui/login?m=changed", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// sourceAddr is the client's address for sign-in throttling: the TCP
// peer, never a forwarded header, which anyone can write.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
