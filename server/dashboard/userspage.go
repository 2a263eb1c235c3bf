package dashboard

import (
	"errors"
	"net/http"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

type usersView struct {
	Users  []userRow
	Review reviewSummary
	Roles  []users.Role
	Notice string
	Error  string
	// New is the account just created, with its one-time password.
	New *newAccount
	// Reset is the account whose password was just reset, with the
	// temporary one, shown once.
	Reset *resetAccount
}

func (d *Dashboard) usersPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	done := r.URL.Query().Get("done")
	notice := noticeText[done]
	if n, ok := userNotices[done]; ok {
		notice = n
	}
	d.renderUsers(w, r, s, http.StatusOK, usersView{Notice: notice})
}

// renderUsers renders the users page with v's message, listing the
// accounts.
func (d *Dashboard) renderUsers(w http.ResponseWriter, r *http.Request, s *signedIn, status int, v usersView) {
	list, err := d.cfg.Users.List(r.Context())
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	locks, err := d.cfg.Users.AddressLocks(r.Context())
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v.Users, v.Review = d.userRows(list, locks)
	for i := range v.Users {
		var err error
		if v.Users[i].MFA, _, err = d.cfg.Users.MFAState(r.Context(), v.Users[i].User); err != nil {
			d.log.Error("users page: read second factors failed", "err", err)
		}
	}
	v.Roles = users.Roles
	d.render(w, r, s, status, "users", "Users", v)
}

func (d *Dashboard) unlockUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	name := r.PathValue("name")
	err := d.cfg.Users.Unlock(r.Context(), "user:"+s.User.Username, name)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/users?done=unlocked", http.StatusSeeOther)
}
