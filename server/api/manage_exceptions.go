package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/gateway/manage"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// maxExceptionDays is the longest exception the API grants, as the
// dashboard and the command line.
const maxExceptionDays = 365

// The management API's bodies and answers are gateway/manage's types, so
// that the client and the server share one definition of the wire form.

func toExceptionJSON(e store.Exception) manage.Exception {
	return manage.Exception{ID: e.ID, Scope: e.Scope, Subject: e.Subject, Control: e.Control, Reason: e.Reason, Approver: e.Approver,
		StartsAt: e.StartsAt, ExpiresAt: e.ExpiresAt, CreatedAt: e.CreatedAt, EndedAt: e.EndedAt, EndedBy: e.EndedBy}
}

// exceptionGrant checks the request field by field, so that a 400 names the field.
func exceptionGrant(x manage.ExceptionRequest, now time.Time, approver string) (exceptions.Grant, string, string) {
	g := exceptions.Grant{Control: checks.ControlID(x.Control), Reason: strings.TrimSpace(x.Reason), Approver: approver,
		StartsAt: x.StartsAt, ExpiresAt: x.ExpiresAt}
	switch {
	case (x.DeviceID == "") == (x.Org == ""):
		return g, "device_id", "give exactly one of device_id and org"
	case x.DeviceID != "":
		g.Scope, g.Subject = store.ScopeDevice, x.DeviceID
	default:
		g.Scope, g.Subject = store.ScopeOrg, x.Org
	}
	if !g.Control.Valid() {
		return g, "control", fmt.Sprintf("control %q is not a control this server knows", x.Control)
	}
	if g.Reason == "" || !printableText(g.Reason, maxReasonLen) {
		return g, "reason", "reason is required: printable text of at most 500 bytes"
	}
	if g.StartsAt.IsZero() {
		g.StartsAt = now
	}
	switch {
	case x.Days != 0 && !x.ExpiresAt.IsZero():
		return g, "days", "give exactly one of expires_at and days"
	case x.Days != 0:
		if x.Days < 1 || x.Days > maxExceptionDays {
			return g, "days", fmt.Sprintf("days must be from 1 to %d", maxExceptionDays)
		}
		g.ExpiresAt = g.StartsAt.AddDate(0, 0, x.Days)
	case x.ExpiresAt.IsZero():
		return g, "expires_at", "give exactly one of expires_at and days"
	}
	if !g.ExpiresAt.After(g.StartsAt) || g.ExpiresAt.Sub(g.StartsAt) > maxExceptionDays*24*time.Hour {
		return g, "expires_at", fmt.Sprintf("expires_at must be after starts_at, at most %d days later", maxExceptionDays)
	}
	return g, "", ""
}

// grantException is POST /v1/exceptions: the key's name is the approver
// in the exception and the audit log.
func (a *api) grantException(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	var req manage.ExceptionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	g, field, msg := exceptionGrant(req, a.now(), c.actor())
	if msg != "" {
		badField(w, field, msg)
		return
	}
	e, err := m.Exceptions.Grant(r.Context(), g)
	if errors.Is(err, exceptions.ErrInvalid) {
		field := "org"
		if g.Scope == store.ScopeDevice {
			field = "device_id"
		}
		badField(w, field, err.Error())
		return
	}
	if err != nil {
		a.internal(w, r, "grant exception failed", err)
		return
	}
	writeJSON(w, http.StatusCreated, toExceptionJSON(e))
}

// endException is DELETE /v1/exceptions/{id}: the exception ends now;
// audited by the exceptions service with the key as who ended it.
func (a *api) endException(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 || !printable(id) {
		badField(w, "id", "the exception ID must be 1 to 64 printable bytes")
		return
	}
	reason, ok := readReason(w, r)
	if !ok {
		return
	}
	e, err := a.cfg.Store.Exception(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such exception"})
		return
	}
	if err != nil {
		a.internal(w, r, "read exception failed", err)
		return
	}
	if now := a.now(); !e.EndedAt.IsZero() || !now.Before(e.ExpiresAt) {
		writeJSON(w, http.StatusConflict, errorBody{Error: "the exception already ended"})
		return
	}
	if reason == "" {
		reason = "ended through the management API"
	}
	if err := m.Exceptions.End(r.Context(), id, c.actor(), reason); err != nil {
		a.internal(w, r, "end exception failed", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// listExceptions is GET /v1/exceptions: the exceptions not yet expired,
// oldest start first, as `exception list` shows them (all=true adds
// those ended early); device_id, org and control filter.
func (a *api) listExceptions(w http.ResponseWriter, r *http.Request, _ *ManageConfig, _ caller) {
	v := r.URL.Query()
	for _, k := range []string{"device_id", "org", "control", "all"} {
		if len(v[k]) > 1 {
			badField(w, k, k+" is given more than once")
			return
		}
		if s := v.Get(k); len(s) > maxFilterLen || !printable(s) {
			badField(w, k, k+" must be printable text of at most 256 bytes")
			return
		}
	}
	all := false
	switch v.Get("all") {
	case "", "false":
	case "true":
		all = true
	default:
		badField(w, "all", "all must be true or false")
		return
	}
	es, err := a.cfg.Store.Exceptions(r.Context(), a.now())
	if err != nil {
		a.internal(w, r, "list exceptions failed", err)
		return
	}
	out := []manage.Exception{}
	for _, e := range es {
		switch {
		case !all && !e.EndedAt.IsZero(),
			v.Get("device_id") != "" && (e.Scope != store.ScopeDevice || e.Subject != v.Get("device_id")),
			v.Get("org") != "" && (e.Scope != store.ScopeOrg || e.Subject != v.Get("org")),
			v.Get("control") != "" && e.Control != v.Get("control"):
			continue
		}
		out = append(out, toExceptionJSON(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": out})
}
