package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// ManageConfig is what the management API (/v1/devices, /v1/exceptions,
// /v1/enrollment-tokens, /v1/enrollment-secrets, /v1/audit) needs. With
// Config.Manage nil its endpoints still check the key, then answer 404.
type ManageConfig struct {
	// Decisions is the engine every surface reads decisions from
	// (*decision.Engine), so the API never disagrees with the dashboard,
	// the command line or /v1/decision.
	Decisions Decisions
	// Audit records every change made through the API, the key's name as
	// the actor.
	Audit *audit.Log
	// Exceptions grants and ends exceptions (the server's one
	// exceptions.Service, which audits them).
	Exceptions Exceptions
	// Revoker revokes devices: the store as the server wraps it, so that
	// a revoked device is disconnected at once.
	Revoker Revoker
	// Rechecker asks a connected agent to report now; nil answers 503.
	Rechecker Rechecker
	// CAPin is the device CA's pin that enrollment tokens and secrets
	// carry.
	CAPin [sha256.Size]byte
}

// Decisions reads the decision engine without announcing anything.
type Decisions interface {
	// Current is one device's decision now; store.ErrNotFound if none.
	Current(ctx context.Context, deviceID string) (decision.Decision, error)
	// All is every device's decision now, by device ID.
	All(ctx context.Context) (map[string]decision.Decision, error)
}

// Exceptions grants and ends exceptions, auditing each change.
type Exceptions interface {
	Grant(ctx context.Context, g exceptions.Grant) (store.Exception, error)
	End(ctx context.Context, id, by, reason string) error
}

// Revoker revokes a device.
type Revoker interface {
	Revoke(ctx context.Context, id string, at time.Time) error
}

// Rechecker pushes a recheck to a connected agent.
type Rechecker interface {
	Recheck(deviceID string) error
}

// maxManageBody bounds a management request's body: every one is a small
// JSON object.
const maxManageBody = 16 << 10

// caller is who a management request comes from: a usable key with the
// endpoint's scope.
type caller struct {
	key store.APIKey
}

// actor names the key in the audit log: its name, as `apikey list` and
// the dashboard show it.
func (c caller) actor() string { return "apikey:" + c.key.Name }

type manageFunc func(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller)

// manage admits a request with a usable key holding scope, then calls h.
func (a *api) manage(scope store.Scope, h manageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, res := a.authorize(r, scope)
		if res != authOK {
			a.refuse(w, res, scope)
			return
		}
		if a.cfg.Manage == nil {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "the management API is not enabled on this server"})
			return
		}
		h(w, r, a.cfg.Manage, caller{key: k})
	})
}

// fieldError is a 400 answer naming the field at fault.
type fieldError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func badField(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, fieldError{Error: msg, Field: field})
}

// decodeBody reads r's JSON object into v: at most maxManageBody bytes,
// no unknown fields, nothing after the object. It answers the request and
// returns false when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "send the body as application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxManageBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("the body holds more than one JSON object")
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the body is larger than %d bytes", maxManageBody)})
	case errors.As(err, &typeErr):
		badField(w, typeErr.Field, fmt.Sprintf("%s must be a JSON %s", typeErr.Field, typeErr.Type.Kind()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		badField(w, field, fmt.Sprintf("unknown field %q", field))
	case errors.Is(err, io.EOF):
		writeJSON(w, http.StatusBadRequest, fieldError{Error: "the body must be a JSON object"})
	default:
		writeJSON(w, http.StatusBadRequest, fieldError{Error: "the body is not a JSON object: " + err.Error()})
	}
	return false
}

// optionalBody is decodeBody for endpoints whose body may be left out.
func optionalBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		return true
	}
	return decodeBody(w, r, v)
}

// auditChange records a change made through the API; a change that could
// not be audited is reported as failed (it was made, but the caller must
// know the trail is missing it).
func (a *api) auditChange(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller, kind, deviceID string, details map[string]any) bool {
	if details == nil {
		details = map[string]any{}
	}
	details["api_key_id"] = c.key.ID
	if _, err := m.Audit.Append(r.Context(), audit.Entry{Actor: c.actor(), Kind: kind, DeviceID: deviceID, Details: details}); err != nil {
		a.internal(w, r, "audit api change failed", err)
		return false
	}
	return true
}

// internal answers 500 and logs why.
func (a *api) internal(w http.ResponseWriter, r *http.Request, msg string, err error) {
	a.failed(r, msg, err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error; the server log says why"})
}

// printableText reports whether s is at most max bytes of printable text.
func printableText(s string, max int) bool {
	return len(s) <= max && printable(s)
}
