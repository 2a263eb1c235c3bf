package dashboard

import (
	"errors"
	"net/http"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// signedIn is the request's user and session.
type signedIn struct {
	User    store.User
	Role    users.Role
	Session store.Session
}

// Can reports whether the signed-in user holds p.
func (s *signedIn) Can(p users.Permission) bool { return s != nil && s.Role.Can(p) }

type pageFunc func(http.ResponseWriter, *http.Request, *signedIn)

// page serves GET pages to a signed-in user holding perm (any user when
// perm is empty).
func (d *Dashboard) page(perm users.Permission, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.authenticate(w, r)
		if !ok {
			return
		}
		if !d.allowed(w, r, s, perm) {
			return
		}
		fn(w, r, s)
	})
}

// action serves a state change: the session's CSRF token must come with
// the form, and the role must hold perm.
func (d *Dashboard) action(perm users.Permission, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		s, ok := d.authenticate(w, r)
		if !ok {
			return
		}
		if err := r.ParseForm(); err != nil {
			d.fail(w, r, s, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if !sameOrigin(r) || !tokensEqual(r.PostForm.Get("csrf"), s.Session.CSRFToken) {
			d.log.Warn("csrf check failed", "user", s.User.Username, "path", r.URL.Path)
			d.fail(w, r, s, http.StatusForbidden, "This request did not come from a dashboard form (missing or wrong CSRF token). Reload the page and try again.")
			return
		}
		if !d.allowed(w, r, s, perm) {
			return
		}
		fn(w, r, s)
	})
}

func (d *Dashboard) allowed(w http.ResponseWriter, r *http.Request, s *signedIn, perm users.Permission) bool {
	if mustChange := d.cfg.Users.MustChangePassword(s.User); mustChange && r.URL.Path != "/ui/password" && r.URL.Path != "/ui/logout" {
		http.Redirect(w, r, "/ui/password", http.StatusSeeOther)
		return false
	}
	if s.User.OIDC() && localCredentialPath(r.URL.Path) {
		d.fail(w, r, s, http.StatusNotFound, "Your account signs in through single sign-on: its password and second factors are kept by the identity provider.")
		return false
	}
	if perm != "" && !s.Can(perm) {
		d.log.Warn("permission denied", "user", s.User.Username, "role", s.User.Role, "permission", string(perm), "path", r.URL.Path)
		d.fail(w, r, s, http.StatusForbidden, "Your role ("+s.User.Role+") does not allow this.")
		return false
	}
	return true
}

// authenticate resolves the session cookie, ends sessions idle for
// IdleTimeout, and records activity. Without a valid session it
// redirects to sign-in and returns false.
func (d *Dashboard) authenticate(w http.ResponseWriter, r *http.Request) (*signedIn, bool) {
	ctx := r.Context()
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) == 0 || len(c.Value) > 64 {
		d.toLogin(w, r, "")
		return nil, false
	}
	hash := store.HashSecret([]byte(c.Value))
	se, err := d.st.Session(ctx, hash)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			d.log.Error("read session failed", "err", err)
		}
		clearSessionCookie(w)
		d.toLogin(w, r, "")
		return nil, false
	}
	now := d.now()
	if now.Sub(se.LastSeenAt) >= IdleTimeout {
		d.st.DeleteSession(ctx, hash)
		clearSessionCookie(w)
		d.toLogin(w, r, "expired")
		return nil, false
	}
	// A disabled or deleted account's sessions end at once (disabling
	// deletes them too; this covers a session being created meanwhile).
	// A lock does not end them: a stranger's failures lock the account
	// only for addresses it never signed in from.
	u, err := d.st.User(ctx, se.Username)
	if err != nil || u.Disabled() {
		d.st.DeleteSession(ctx, hash)
		clearSessionCookie(w)
		d.toLogin(w, r, "")
		return nil, false
	}
	if err := d.st.TouchSession(ctx, hash, now); err != nil {
		d.log.Error("touch session failed", "err", err)
	}
	return &signedIn{User: u, Role: users.Role(u.Role), Session: se}, true
}

func (d *Dashboard) toLogin(w http.ResponseWriter, r *http.Request, reason string) {
	if r.Method != http.MethodGet {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	target := "/ui/login"
	if reason != "" {
		target += "?m=" + reason
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
