package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// newAccount is an account just created, shown once with its initial
// password.
type newAccount struct {
	Username, Password string
	Role               users.Role
}

func (d *Dashboard) addUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := r.PostForm
	role, roleErr := users.ParseRole(f.Get("role"))
	nu := users.NewUser{Username: strings.TrimSpace(f.Get("username")), FirstName: strings.TrimSpace(f.Get("first_name")),
		LastName: strings.TrimSpace(f.Get("last_name")), Role: role}
	nu.By = "user:" + s.User.Username
	v := usersView{Error: newUserProblem(nu, roleErr)}
	if v.Error == "" {
		var err error
		_, nu.Password, err = d.cfg.Users.Create(r.Context(), nu)
		var re *users.RuleError
		switch {
		case errors.Is(err, store.ErrConflict):
			v.Error = fmt.Sprintf("The user name %q is taken.", nu.Username)
		case errors.As(err, &re):
			v.Error = "The generated password was refused (" + strings.Join(re.Problems, "; ") + "); submit again."
		case err != nil:
			d.internal(w, r, s, err)
			return
		}
	}
	status := http.StatusBadRequest
	if v.Error == "" {
		v.New, status = &newAccount{Username: nu.Username, Password: nu.Password, Role: role}, http.StatusOK
	}
	d.renderUsers(w, r, s, status, v)
}

// newUserProblem says what is wrong with the add-user form, or "".
func newUserProblem(nu users.NewUser, roleErr error) string {
	switch {
	case !users.ValidUsername(nu.Username):
		return "A user name is 1 to 64 lowercase letters, digits, '.', '_', '@' or '-', starting with a letter or digit."
	case nu.FirstName == "" || nu.LastName == "" || utf8.RuneCountInString(nu.FirstName) > 100 || utf8.RuneCountInString(nu.LastName) > 100:
		return "First and last name are required, at most 100 characters each."
	case roleErr != nil:
		return "Choose a role."
	}
	return ""
}

func (d *Dashboard) setRole(w http.ResponseWriter, r *http.Request, s *signedIn) {
	name := r.PathValue("name")
	role, err := users.ParseRole(r.PostForm.Get("role"))
	if err != nil {
		d.fail(w, r, s, http.StatusBadRequest, "Choose a role.")
		return
	}
	if name == s.User.Username {
		// Keeps at least one administrator: only another admin can
		// change an admin's role.
		d.fail(w, r, s, http.StatusForbidden, "You cannot change your own role; ask another administrator.")
		return
	}
	err = d.cfg.Users.SetRole(r.Context(), "user:"+s.User.Username, name, role)
	if errors.Is(err, users.ErrLastAdmin) {
		d.fail(w, r, s, http.StatusConflict, name+" is the last enabled administrator: make another account admin first.")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/users?done=role", http.StatusSeeOther)
}
