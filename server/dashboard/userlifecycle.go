package dashboard

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// userRow is one account on the users page with its review standing.
type userRow struct {
	store.User
	// Review is users.ReviewCurrent, ReviewDue or ReviewOverdue; ReviewBy
	// its date.
	Review   string
	ReviewBy time.Time
	// LockedAddresses are addresses the account signed in from that are
	// locked now (its own typos, or someone behind the same address).
	LockedAddresses []string
	// MFA is the account's second factors (users.Service.MFAState).
	MFA string
}

// reviewSummary counts the accounts whose review is due or overdue.
type reviewSummary struct{ Due, Overdue, Inactive int }

func (d *Dashboard) userRows(list []store.User, locks map[string][]string) ([]userRow, reviewSummary) {
	now := d.now()
	rows := make([]userRow, 0, len(list))
	var sum reviewSummary
	for _, u := range list {
		r := userRow{User: u, Review: users.ReviewState(u, now), ReviewBy: users.ReviewBy(u), LockedAddresses: locks[u.Username]}
		if !u.Disabled() {
			switch r.Review {
			case users.ReviewDue:
				sum.Due++
			case users.ReviewOverdue:
				sum.Overdue++
			}
		} else if u.DisabledReason == store.DisabledInactive {
			sum.Inactive++
		}
		rows = append(rows, r)
	}
	return rows, sum
}

// resetAccount is a password just reset, shown once.
type resetAccount struct{ Username, Password string }

var userNotices = map[string]string{
	"disabled": "Account disabled: its sessions have ended and it cannot sign in until enabled.",
	"enabled":  "Account enabled.",
	"deleted":  "Account deleted.",
	"reviewed": "Review recorded; the next one is due in a year.",
}

// userChange answers one lifecycle action on the account named in the
// path: done names the notice to show after it.
func (d *Dashboard) userChange(done string, change func(r *http.Request, by, name string) error) func(http.ResponseWriter, *http.Request, *signedIn) {
	return func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		name := r.PathValue("name")
		err := change(r, "user:"+s.User.Username, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		case errors.Is(err, users.ErrLastAdmin):
			d.fail(w, r, s, http.StatusConflict, name+" is the last enabled administrator: make another account admin first.")
		case errors.Is(err, users.ErrSelf), errors.Is(err, errConfirm), errors.Is(err, errNoteTooLong), errors.Is(err, errSelfReview):
			d.fail(w, r, s, http.StatusBadRequest, capitalize(err.Error())+".")
		case err != nil:
			d.internal(w, r, s, err)
		default:
			http.Redirect(w, r, "/ui/users?done="+done, http.StatusSeeOther)
		}
	}
}

var (
	errConfirm     = errors.New("tick the box to confirm that the account is to be deleted")
	errNoteTooLong = errors.New("a review note is at most 500 characters")
	errSelfReview  = errors.New("you cannot review your own account; ask another administrator")
)

func (d *Dashboard) disableUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.userChange("disabled", func(r *http.Request, by, name string) error { return d.cfg.Users.Disable(r.Context(), by, name) })(w, r, s)
}

func (d *Dashboard) enableUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.userChange("enabled", func(r *http.Request, by, name string) error { return d.cfg.Users.Enable(r.Context(), by, name) })(w, r, s)
}

func (d *Dashboard) deleteUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.userChange("deleted", func(r *http.Request, by, name string) error {
		if r.PostForm.Get("confirm") != "yes" {
			return errConfirm
		}
		return d.cfg.Users.Delete(r.Context(), by, name)
	})(w, r, s)
}

func (d *Dashboard) reviewUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.userChange("reviewed", func(r *http.Request, by, name string) error {
		note := strings.TrimSpace(r.PostForm.Get("note"))
		if utf8.RuneCountInString(note) > 500 {
			return errNoteTooLong
		}
		if name == s.User.Username {
			return errSelfReview
		}
		return d.cfg.Users.Review(r.Context(), by, name, note)
	})(w, r, s)
}

// resetUserPassword gives the account a temporary password, shown once
// on the users page; the user must change it at the next sign-in. An
// administrator changes their own password on the password page.
func (d *Dashboard) resetUserPassword(w http.ResponseWriter, r *http.Request, s *signedIn) {
	name := r.PathValue("name")
	if name == s.User.Username {
		d.fail(w, r, s, http.StatusBadRequest, "Change your own password on the password page.")
		return
	}
	pw, err := d.cfg.Users.ResetPassword(r.Context(), "user:"+s.User.Username, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	case errors.Is(err, users.ErrOIDCAccount):
		d.fail(w, r, s, http.StatusBadRequest, name+" signs in through the identity provider and has no password here.")
		return
	case err != nil:
		d.internal(w, r, s, err)
		return
	}
	d.renderUsers(w, r, s, http.StatusOK, usersView{Reset: &resetAccount{Username: name, Password: pw}})
}
