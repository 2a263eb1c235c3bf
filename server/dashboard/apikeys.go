package dashboard

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// apiKeyRoutes serves the API keys page: admins create keys (the secret
// shown once), list them and revoke them, as `postern-server apikey`
// does.
func (d *Dashboard) apiKeyRoutes(m *http.ServeMux) {
	m.Handle("GET /ui/apikeys", d.page(users.PermUsers, d.apiKeys))
	m.Handle("POST /ui/apikeys", d.action(users.PermUsers, d.createAPIKey))
	m.Handle("POST /ui/apikeys/{id}/revoke", d.action(users.PermUsers, d.revokeAPIKey))
}

type apiKeyRow struct {
	store.APIKey
	Scopes string
	// State is active, expired or revoked.
	State string
}

type apiKeysView struct {
	Keys []apiKeyRow
	// New is the key just created, shown once; NewName its name.
	New, NewName string
	// AllScopes are the scopes to choose from; Checked those ticked.
	AllScopes []store.Scope
	Checked   map[store.Scope]bool
	Error     string
	Notice    string
}

// apiKeyLifetimes are the expiries offered; "" never expires.
var apiKeyLifetimes = map[string]time.Duration{"": 0, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

func (d *Dashboard) apiKeyView(r *http.Request, v apiKeysView) (apiKeysView, error) {
	keys, err := d.st.APIKeys(r.Context())
	if err != nil {
		return v, err
	}
	now := d.now()
	// Newest first: the key just made is at the top.
	slices.Reverse(keys)
	for _, k := range keys {
		state := "active"
		switch {
		case !k.RevokedAt.IsZero():
			state = "revoked"
		case !k.Usable(now):
			state = "expired"
		}
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, Scopes: strings.ReplaceAll(store.JoinScopes(k.Scopes), ",", ", "), State: state})
	}
	v.AllScopes = store.AllScopes
	if v.Checked == nil {
		v.Checked = map[store.Scope]bool{}
		for _, sc := range store.GatewayScopes {
			v.Checked[sc] = true
		}
	}
	return v, nil
}

func (d *Dashboard) apiKeys(w http.ResponseWriter, r *http.Request, s *signedIn) {
	v, err := d.apiKeyView(r, apiKeysView{Notice: apiKeyNotices[r.URL.Query().Get("done")]})
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.render(w, r, s, http.StatusOK, "apikeys", "API keys", v)
}

var apiKeyNotices = map[string]string{"revoked": "The key is revoked: running servers refuse it within 5 seconds."}

func (d *Dashboard) createAPIKey(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var v apiKeysView
	name := strings.TrimSpace(r.PostForm.Get("name"))
	picked := r.PostForm["scope"]
	v.Checked = map[store.Scope]bool{}
	for _, p := range picked {
		v.Checked[store.Scope(p)] = true
	}
	scopes, scopeErr := store.ParseScopes(strings.Join(picked, ","))
	life, lifeOK := apiKeyLifetimes[r.PostForm.Get("expires")]
	switch {
	case name == "" || len(name) > store.MaxAPIKeyNameLen:
		v.Error = "Give the key a name of at most 128 bytes: what will use it."
	case scopeErr != nil:
		v.Error = "Choose at least one scope."
	case !lifeOK:
		v.Error = "Choose when the key expires."
	}
	// A key outlives the session that makes it (sign-out, a new
	// password, even a disabled account leave it working): like a second
	// factor, it takes the current password, so that a session left
	// open cannot mint one. Single sign-on accounts have none to give.
	if v.Error == "" && !s.User.OIDC() && !d.passwordAgain(w, r, s, func(msg string) {
		v.Error = msg + " No key was made."
	}) && v.Error == "" {
		return // answered: the session ended, or the check failed
	}
	if v.Error == "" {
		now := d.now()
		key, rec, err := store.NewAPIKey(name, now)
		if err != nil {
			d.internal(w, r, s, err)
			return
		}
		rec.Scopes, rec.Owner = scopes, "user:"+s.User.Username
		if life > 0 {
			rec.ExpiresAt = now.Add(life)
		}
		if err := d.cfg.Store.CreateAPIKey(r.Context(), rec); err != nil {
			d.internal(w, r, s, err)
			return
		}
		details := map[string]any{"id": rec.ID, "name": rec.Name, "scopes": store.JoinScopes(rec.Scopes)}
		if life > 0 {
			details["expires_at"] = rec.ExpiresAt.UTC().Format(time.RFC3339)
		}
		d.audit(r, s, audit.KindAPIKeyCreated, "", details)
		v.New, v.NewName, v.Checked = key, rec.Name, nil
	}
	v, err := d.apiKeyView(r, v)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	status := http.StatusOK
	if v.Error != "" {
		status = http.StatusBadRequest
	}
	d.render(w, r, s, status, "apikeys", "API keys", v)
}

func (d *Dashboard) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	if len(id) > 64 {
		d.fail(w, r, s, http.StatusNotFound, "There is no such API key.")
		return
	}
	k, err := d.cfg.Store.APIKey(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such API key.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	err = d.cfg.Store.RevokeAPIKey(r.Context(), id, d.now())
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusConflict, "The key is already revoked.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindAPIKeyRevoked, "", map[string]any{"id": k.ID, "name": k.Name, "reason": truncate(r.PostForm.Get("reason"), 500)})
	http.Redirect(w, r, "/ui/apikeys?done=revoked", http.StatusSeeOther)
}
