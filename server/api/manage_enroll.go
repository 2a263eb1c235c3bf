package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/postern-dev/postern/gateway/manage"
	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// tokenIDLen is how much of a token's hash names it, as the dashboard and
// `token list` name it; the hash is of the secret, so it gives nothing
// away.
const tokenIDLen = 12

func toTokenJSON(t store.TokenInfo, now time.Time) manage.EnrollmentToken {
	j := manage.EnrollmentToken{ID: t.Hash[:min(tokenIDLen, len(t.Hash))], Org: t.Org, Owner: t.Owner, State: "unused",
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, UsedAt: t.UsedAt, DeviceID: t.DeviceID}
	switch {
	case !t.UsedAt.IsZero():
		j.State = "used"
	case !now.Before(t.ExpiresAt):
		j.State = "expired"
	}
	return j
}

// listTokens is GET /v1/enrollment-tokens, newest first.
func (a *api) listTokens(w http.ResponseWriter, r *http.Request, _ *ManageConfig, _ caller) {
	ts, err := a.cfg.Store.Tokens(r.Context(), store.MaxPageSize)
	if err != nil {
		a.internal(w, r, "list tokens failed", err)
		return
	}
	now := a.now()
	out := make([]manage.EnrollmentToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTokenJSON(t, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// parseLifetime reads a duration field ("7d", "12h"); empty is def.
func parseLifetime(s string, def, max time.Duration) (time.Duration, bool) {
	if s == "" {
		return def, true
	}
	d, err := duration.Parse(s)
	return d, err == nil && d > 0 && d <= max
}

// createToken is POST /v1/enrollment-tokens: a one-time token, shown
// only in this answer.
func (a *api) createToken(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	var req manage.TokenRequest
	if !optionalBody(w, r, &req) {
		return
	}
	ttl, ok := parseLifetime(req.ExpiresIn, store.DefaultTokenTTL, 366*24*time.Hour)
	if !ok {
		badField(w, "expires_in", "expires_in must be a duration such as 72h or 7d, at most 366d")
		return
	}
	now := a.now()
	tok, rec, err := store.NewEnrollToken(m.CAPin, ttl, req.Org, req.Owner, now)
	if err != nil {
		field := "org"
		if strings.Contains(err.Error(), "owner") {
			field = "owner"
		}
		badField(w, field, err.Error())
		return
	}
	if err := a.cfg.Store.CreateToken(r.Context(), rec); err != nil {
		a.internal(w, r, "create token failed", err)
		return
	}
	id := rec.Hash[:tokenIDLen]
	if !a.auditChange(w, r, m, c, audit.KindTokenCreated, "", map[string]any{"token_id": id, "org": rec.Org, "owner": rec.Owner,
		"expires_at": rec.ExpiresAt}) {
		return
	}
	j := toTokenJSON(store.TokenInfo{Token: rec}, now)
	writeJSON(w, http.StatusCreated, manage.NewEnrollmentToken{Token: tok, EnrollmentToken: j})
}

// revokeToken is POST /v1/enrollment-tokens/{id}/revoke: an unused token
// can no longer enroll.
func (a *api) revokeToken(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	id := strings.ToLower(r.PathValue("id"))
	if len(id) < tokenIDLen || len(id) > 64 || strings.Trim(id, "0123456789abcdef") != "" {
		badField(w, "id", "a token ID is 12 to 64 hex digits, as the token list shows it")
		return
	}
	ts, err := a.cfg.Store.Tokens(r.Context(), store.MaxPageSize)
	if err != nil {
		a.internal(w, r, "list tokens failed", err)
		return
	}
	var match []store.TokenInfo
	for _, t := range ts {
		if strings.HasPrefix(t.Hash, id) {
			match = append(match, t)
		}
	}
	switch {
	case len(match) == 0:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such token"})
		return
	case len(match) > 1:
		badField(w, "id", "the ID names more than one token: give more of it")
		return
	}
	now := a.now()
	if j := toTokenJSON(match[0], now); j.State != "unused" {
		writeJSON(w, http.StatusConflict, errorBody{Error: "the token is already " + j.State})
		return
	}
	if err := a.cfg.Store.RevokeToken(r.Context(), match[0].Hash, now); err != nil {
		a.internal(w, r, "revoke token failed", err)
		return
	}
	t := match[0]
	if !a.auditChange(w, r, m, c, audit.KindTokenRevoked, "", map[string]any{"token_id": t.Hash[:tokenIDLen], "org": t.Org, "owner": t.Owner}) {
		return
	}
	t.ExpiresAt = now
	writeJSON(w, http.StatusOK, toTokenJSON(t, now))
}

func toSecretJSON(e store.EnrollSecret, now time.Time) manage.EnrollmentSecret {
	j := manage.EnrollmentSecret{ID: e.ID, Org: e.Org, Owner: e.Owner, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt, MaxUses: e.MaxUses,
		Uses: e.Uses, RevokedAt: e.RevokedAt, State: "active"}
	switch {
	case !e.RevokedAt.IsZero():
		j.State = "revoked"
	case !now.Before(e.ExpiresAt):
		j.State = "expired"
	case e.MaxUses > 0 && e.Uses >= e.MaxUses:
		j.State = "used up"
	}
	return j
}

// listSecrets is GET /v1/enrollment-secrets.
func (a *api) listSecrets(w http.ResponseWriter, r *http.Request, _ *ManageConfig, _ caller) {
	all, err := a.cfg.Store.EnrollSecrets(r.Context())
	if err != nil {
		a.internal(w, r, "list secrets failed", err)
		return
	}
	now := a.now()
	out := make([]manage.EnrollmentSecret, 0, len(all))
	for _, e := range all {
		out = append(out, toSecretJSON(e, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"secrets": out})
}

// defaultSecretLifetime is a fleet rollout's usual window, as `secret
// create`'s default.
const defaultSecretLifetime = 30 * 24 * time.Hour

// createSecret is POST /v1/enrollment-secrets: a reusable, org-scoped
// secret, shown only in this answer.
func (a *api) createSecret(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	var req manage.SecretRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Org) == "" {
		badField(w, "org", "org is required: a fleet secret says whose devices it enrolls")
		return
	}
	ttl, ok := parseLifetime(req.ExpiresIn, defaultSecretLifetime, store.MaxSecretTTL)
	if !ok {
		badField(w, "expires_in", "expires_in must be a duration such as 90d or 2160h, at most 3 years")
		return
	}
	if req.MaxUses < 0 || req.MaxUses > store.MaxSecretUses {
		badField(w, "max_uses", "max_uses must be from 0 (no limit) to 1000000")
		return
	}
	now := a.now()
	secret, rec, err := store.NewEnrollSecret(m.CAPin, ttl, req.MaxUses, req.Org, req.Owner, now)
	if err != nil {
		field := "org"
		if strings.Contains(err.Error(), "owner") {
			field = "owner"
		}
		badField(w, field, err.Error())
		return
	}
	if err := a.cfg.Store.CreateEnrollSecret(r.Context(), rec); err != nil {
		a.internal(w, r, "create secret failed", err)
		return
	}
	if !a.auditChange(w, r, m, c, audit.KindAdmin, "", map[string]any{"action": "enroll_secret_created", "id": rec.ID,
		"org": rec.Org, "owner": rec.Owner, "expires_at": rec.ExpiresAt, "max_uses": rec.MaxUses}) {
		return
	}
	writeJSON(w, http.StatusCreated, manage.NewEnrollmentSecret{Secret: secret, EnrollmentSecret: toSecretJSON(rec, now)})
}

// revokeSecret is POST /v1/enrollment-secrets/{id}/revoke: devices it
// enrolled keep their identity.
func (a *api) revokeSecret(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 || !printable(id) {
		badField(w, "id", "the secret ID must be 1 to 64 printable bytes")
		return
	}
	all, err := a.cfg.Store.EnrollSecrets(r.Context())
	if err != nil {
		a.internal(w, r, "list secrets failed", err)
		return
	}
	i := slices.IndexFunc(all, func(e store.EnrollSecret) bool { return e.ID == id })
	switch {
	case i < 0:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such enrollment secret"})
		return
	case !all[i].RevokedAt.IsZero():
		writeJSON(w, http.StatusConflict, errorBody{Error: "the enrollment secret is already revoked"})
		return
	}
	now := a.now()
	e, err := a.cfg.Store.RevokeEnrollSecret(r.Context(), id, now)
	if err != nil {
		a.internal(w, r, "revoke secret failed", err)
		return
	}
	if !a.auditChange(w, r, m, c, audit.KindAdmin, "", map[string]any{"action": "enroll_secret_revoked", "id": e.ID, "org": e.Org, "uses": e.Uses}) {
		return
	}
	writeJSON(w, http.StatusOK, toSecretJSON(e, now))
}
