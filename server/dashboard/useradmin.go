package dashboard

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
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
	v := usersView{Error: newUserProblem(nu, roleErr)}
	if v.Error == "" {
		pw, err := initialPassword()
		if err != nil {
			d.internal(w, r, s, err)
			return
		}
		nu.Password = pw
		_, err = d.cfg.Users.Add(r.Context(), nu)
		var re *users.RuleError
		switch {
		case errors.Is(err, store.ErrConflict):
			v.Error = fmt.Sprintf("The user name %q is taken.", nu.Username)
		case errors.As(err, &re):
			// The generated password holds part of a name; another
			// will almost surely not.
			v.Error = "The generated password was refused (" + strings.Join(re.Problems, "; ") + "); submit again."
		case err != nil:
			d.internal(w, r, s, err)
			return
		}
	}
	status := http.StatusBadRequest
	if v.Error == "" {
		d.audit(r, s, "user_created", "", map[string]any{"user": nu.Username, "role": string(role)})
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
	u, err := d.acc.User(r.Context(), name)
	if err == nil && u.Role != string(role) {
		err = d.acc.SetRole(r.Context(), name, string(role))
	}
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such user.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	if u.Role != string(role) {
		d.audit(r, s, "user_role_changed", "", map[string]any{"user": name, "from": u.Role, "to": string(role)})
	}
	http.Redirect(w, r, "/ui/users?done=role", http.StatusSeeOther)
}

// initialPassword returns 20 random characters from all four classes,
// without look-alike characters; the user must replace it at first
// sign-in.
func initialPassword() (string, error) {
	sets := []string{"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "-_.+!"}
	all := strings.Join(sets, "")
	out := make([]byte, 20)
	for i := range out {
		set := all
		if i < len(sets) {
			set = sets[i]
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i] = set[n.Int64()]
	}
	// Shuffle so that the class of each position is not fixed.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}
