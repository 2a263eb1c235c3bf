package dashboard

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// ChallengeCookie holds the state between a right password and the
// second factor. It is no session: no page but the second step accepts
// it, it lasts ChallengeTTL, and its ID is stored hashed like a
// session's. HttpOnly, Secure and SameSite=Strict bind it to the browser
// that gave the password.
const ChallengeCookie = "__Host-postern_mfa"

// ChallengeTTL is how long a half-signed-in browser has for the second
// factor (or, when MFA is required, for enrolling one).
const ChallengeTTL = 5 * time.Minute

// Challenge purposes.
const (
	purposeVerify = "verify" // the account has a second factor
	purposeEnrol  = "enrol"  // MFA is required and the account has none
)

// secondStep starts the second step of a sign-in whose password passed:
// it answers (a redirect to the second step, or an error page) and
// returns true when the account has a second factor or must enrol one.
// Otherwise it records the sign-in and returns false: the caller starts
// the session.
func (d *Dashboard) secondStep(w http.ResponseWriter, r *http.Request, u store.User) bool {
	ctx := r.Context()
	st, err := d.cfg.Users.MFAStatus(ctx, u.Username)
	var required bool
	if err == nil {
		required, err = d.cfg.Users.MFARequired(ctx)
	}
	if err == nil && !st.Enrolled() && !required {
		err = d.cfg.Users.FinishSignIn(ctx, sourceAddr(r), u.Username)
		if err == nil {
			return false
		}
	}
	if err != nil {
		d.log.Error("sign-in second step failed", "err", err)
		d.render(w, r, nil, http.StatusInternalServerError, "login", "Sign in", loginView{Error: "Sign-in is unavailable; try again later."})
		return true
	}
	purpose, next := purposeVerify, "/ui/login/verify"
	if !st.Enrolled() {
		purpose, next = purposeEnrol, "/ui/login/enrol"
	}
	if err := d.startChallenge(ctx, w, u.Username, purpose); err != nil {
		d.log.Error("start sign-in challenge failed", "err", err)
		d.render(w, r, nil, http.StatusInternalServerError, "login", "Sign in", loginView{Error: "Sign-in is unavailable; try again later."})
		return true
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return true
}

func (d *Dashboard) startChallenge(ctx context.Context, w http.ResponseWriter, username, purpose string) error {
	id, err := randomToken()
	if err != nil {
		return err
	}
	now := d.now()
	if err := d.st.CreateMFAChallenge(ctx, store.MFAChallenge{IDHash: store.HashSecret([]byte(id)), Username: username, Purpose: purpose,
		CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: ChallengeCookie, Value: id, Path: "/", MaxAge: int(ChallengeTTL / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return nil
}

func clearChallengeCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: ChallengeCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// challenge returns the request's live challenge of purpose; without one
// it sends the browser back to sign in and returns false.
func (d *Dashboard) challenge(w http.ResponseWriter, r *http.Request, purpose string) (store.MFAChallenge, bool) {
	c, err := r.Cookie(ChallengeCookie)
	if err == nil && len(c.Value) > 0 && len(c.Value) <= 64 {
		ch, err := d.st.MFAChallenge(r.Context(), store.HashSecret([]byte(c.Value)), d.now())
		if err == nil && ch.Purpose == purpose {
			return ch, true
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			d.log.Error("read sign-in challenge failed", "err", err)
		}
	}
	clearChallengeCookie(w)
	d.toLogin(w, r, "mfaexpired")
	return store.MFAChallenge{}, false
}

// endChallenge deletes the challenge and its cookie.
func (d *Dashboard) endChallenge(w http.ResponseWriter, r *http.Request, ch store.MFAChallenge) {
	if err := d.st.DeleteMFAChallenge(context.WithoutCancel(r.Context()), ch.IDHash); err != nil {
		d.log.Error("delete sign-in challenge failed", "err", err)
	}
	clearChallengeCookie(w)
}

// finishChallenge ends the challenge and signs the user in with a new
// session, audited with the second factor that passed. It returns false
// after answering with an error.
func (d *Dashboard) finishChallenge(w http.ResponseWriter, r *http.Request, ch store.MFAChallenge, factor string) (store.User, bool) {
	d.endChallenge(w, r, ch)
	ctx := r.Context()
	// An account locked or disabled since its password passed gets no
	// session, whatever its second factor.
	if d.cfg.Users.AllowSecondFactor(ctx, users.SecondFactor{Source: sourceAddr(r), Username: ch.Username}) != nil {
		d.render(w, r, nil, http.StatusUnauthorized, "login", "Sign in", loginView{Error: "Wrong user name or password."})
		return store.User{}, false
	}
	err := d.cfg.Users.FinishSignIn(ctx, sourceAddr(r), ch.Username)
	var u store.User
	if err == nil {
		u, err = d.st.User(ctx, ch.Username)
	}
	if err == nil {
		err = d.startSession(w, r, u)
	}
	if err != nil {
		d.log.Error("finish sign-in failed", "err", err)
		d.render(w, r, nil, http.StatusInternalServerError, "login", "Sign in", loginView{Error: "Sign-in is unavailable; try again later."})
		return store.User{}, false
	}
	d.log.Info("signed in", "user", u.Username, "second_factor", factor)
	d.auditSignIn(r, u, factor)
	return u, true
}

type verifyView struct {
	Error string
	// Keys is whether the account has security keys to offer.
	Keys bool
	TOTP bool
}

func (d *Dashboard) verifyPage(w http.ResponseWriter, r *http.Request) {
	ch, ok := d.challenge(w, r, purposeVerify)
	if !ok {
		return
	}
	d.renderVerify(w, r, ch, http.StatusOK, "")
}

func (d *Dashboard) renderVerify(w http.ResponseWriter, r *http.Request, ch store.MFAChallenge, status int, msg string) {
	st, err := d.cfg.Users.MFAStatus(r.Context(), ch.Username)
	if err != nil {
		d.log.Error("read second factors failed", "err", err)
	}
	d.render(w, r, nil, status, "mfa_verify", "Second step", verifyView{Error: msg, Keys: st.SecurityKeys > 0, TOTP: st.TOTP})
}

// verify checks a TOTP or recovery code (method) for the challenge.
func (d *Dashboard) verify(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	ch, ok := d.challenge(w, r, purposeVerify)
	if !ok {
		return
	}
	f := users.SecondFactor{Source: sourceAddr(r), Username: ch.Username}
	code := r.PostForm.Get("code")
	var err error
	var left = -1
	factor := factorTOTP
	switch r.PostForm.Get("method") {
	case "recovery":
		factor = factorRecovery
		left, err = d.cfg.Users.UseRecoveryCode(r.Context(), f, code)
	default:
		err = d.cfg.Users.VerifyTOTP(r.Context(), f, code)
	}
	if err != nil {
		d.secondFactorRefused(w, r, ch, err)
		return
	}
	if _, ok := d.finishChallenge(w, r, ch, factor); !ok {
		return
	}
	target := "/ui/"
	if left >= 0 {
		// A recovery code was used: the account page says how many are
		// left and offers new ones.
		target = "/ui/account?done=recovery"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// secondFactorRefused answers a refused code: the same message for a
// wrong, used or replayed code; a lock (or an unreadable account) ends
// the challenge.
func (d *Dashboard) secondFactorRefused(w http.ResponseWriter, r *http.Request, ch store.MFAChallenge, err error) {
	if !errors.Is(err, users.ErrBadCode) {
		d.log.Error("second factor check failed", "err", err)
		d.renderVerify(w, r, ch, http.StatusInternalServerError, "Sign-in is unavailable; try again later.")
		return
	}
	// A refusal that locked the account (or this address) ends the
	// challenge: the browser is back at the password.
	if d.cfg.Users.AllowSecondFactor(r.Context(), users.SecondFactor{Source: sourceAddr(r), Username: ch.Username}) != nil {
		d.endChallenge(w, r, ch)
		d.render(w, r, nil, http.StatusUnauthorized, "login", "Sign in", loginView{Error: "Wrong user name or password."})
		return
	}
	d.renderVerify(w, r, ch, http.StatusUnauthorized, "Wrong or already used code. Wait for the next code from your app and try again.")
}

type enrolView struct {
	Error  string
	Secret string
	// QR is a data: URL of the PNG (the CSP allows img-src data:),
	// typed so that the template keeps it: the PNG is ours, not input.
	QR     template.URL
	Action string
	CSRF   bool
}

func qrDataURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// enrolPage shows the authenticator app's secret to an account that must
// enrol before it may sign in.
func (d *Dashboard) enrolPage(w http.ResponseWriter, r *http.Request) {
	ch, ok := d.challenge(w, r, purposeEnrol)
	if !ok {
		return
	}
	d.renderEnrol(w, r, nil, ch.Username, http.StatusOK, "", "/ui/login/enrol")
}

// renderEnrol shows the pending TOTP enrolment of username, starting one
// if there is none.
func (d *Dashboard) renderEnrol(w http.ResponseWriter, r *http.Request, s *signedIn, username string, status int, msg, action string) {
	ctx := r.Context()
	e, err := d.cfg.Users.PendingTOTP(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		e, err = d.cfg.Users.BeginTOTP(ctx, username)
	}
	if err != nil {
		d.log.Error("start totp enrolment failed", "err", err)
		if s != nil {
			d.fail(w, r, s, http.StatusInternalServerError, "An authenticator app cannot be set up now: "+err.Error()+".")
			return
		}
		d.render(w, r, nil, http.StatusInternalServerError, "login", "Sign in", loginView{Error: "Sign-in is unavailable; try again later."})
		return
	}
	d.render(w, r, s, status, "mfa_enrol", "Set up a second factor", enrolView{Error: msg, Secret: e.Secret, QR: qrDataURL(e.QR), Action: action, CSRF: s != nil})
}

type recoveryView struct {
	Codes []string
	Next  string
}

// enrol confirms the forced enrolment with a code, signs the user in and
// shows the recovery codes once.
func (d *Dashboard) enrol(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil || !sameOrigin(r) {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	ch, ok := d.challenge(w, r, purposeEnrol)
	if !ok {
		return
	}
	codes, err := d.cfg.Users.ConfirmTOTP(r.Context(), ch.Username, r.PostForm.Get("code"))
	if err != nil {
		msg := "That code does not match: check the phone's time and enter the code shown now."
		status := http.StatusUnprocessableEntity
		if !errors.Is(err, users.ErrBadCode) {
			d.log.Error("confirm totp failed", "err", err)
			msg, status = "The authenticator app could not be set up; try again.", http.StatusInternalServerError
		}
		d.renderEnrol(w, r, nil, ch.Username, status, msg, "/ui/login/enrol")
		return
	}
	u, ok := d.finishChallenge(w, r, ch, factorTOTP)
	if !ok {
		return
	}
	// Rendered without the navigation: the page is the sign-in's last
	// step, and the new session's CSRF token stays out of it.
	d.log.Info("second factor enrolled at sign-in", "user", u.Username)
	d.showRecoveryCodes(w, r, nil, codes, "/ui/")
}

// showRecoveryCodes renders codes once, then the browser goes on to next.
func (d *Dashboard) showRecoveryCodes(w http.ResponseWriter, r *http.Request, s *signedIn, codes []string, next string) {
	if len(codes) == 0 {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.render(w, r, s, http.StatusOK, "mfa_codes", "Recovery codes", recoveryView{Codes: codes, Next: next})
}
