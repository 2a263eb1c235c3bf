package dashboard

import (
	"errors"
	"net/http"

	"github.com/postern-dev/postern/server/store"
)

type usersView struct {
	Users  []store.User
	Notice string
}

func (d *Dashboard) usersPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	list, err := d.cfg.Users.List(r.Context())
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.render(w, r, s, http.StatusOK, "users", "Users", usersView{Users: list, Notice: noticeText[r.URL.Query().Get("done")]})
}

func (d *Dashboard) unlockUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	name := r.PathValue("name")
	err := d.cfg.Users.Unlock(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, "user_unlocked", "", map[string]any{"user": name})
	http.Redirect(w, r, "/ui/users?done=unlocked", http.StatusSeeOther)
}
