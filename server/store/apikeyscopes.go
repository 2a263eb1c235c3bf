package store

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is one thing an API key may do. A request names the scope its
// endpoint needs; a key without it is refused (403).
type Scope string

// The scopes, in the order they are listed and stored.
const (
	// ScopeDecisionRead asks /v1/decision and /v1/authz-style questions.
	ScopeDecisionRead Scope = "decision:read"
	// ScopeEventsRead follows /v1/events.
	ScopeEventsRead Scope = "events:read"
	// ScopeDevicesRead lists and shows devices with their decisions.
	ScopeDevicesRead Scope = "devices:read"
	// ScopeDevicesWrite revokes devices and asks them to report again.
	ScopeDevicesWrite Scope = "devices:write"
	// ScopeExceptionsWrite grants and ends exceptions.
	ScopeExceptionsWrite Scope = "exceptions:write"
	// ScopeAuditRead exports the audit log.
	ScopeAuditRead Scope = "audit:read"
	// ScopeAdmin may do everything, enrollment tokens and secrets included.
	ScopeAdmin Scope = "admin"
)

// AllScopes lists every scope in its canonical order.
var AllScopes = []Scope{ScopeDecisionRead, ScopeEventsRead, ScopeDevicesRead, ScopeDevicesWrite,
	ScopeExceptionsWrite, ScopeAuditRead, ScopeAdmin}

// GatewayScopes are a gateway's scopes: what every key made before scopes
// existed keeps, and what NewAPIKey gives.
var GatewayScopes = []Scope{ScopeDecisionRead, ScopeEventsRead}

// ParseScopes reads a comma-separated list of scopes ("decision:read,
// events:read"), as given on the command line and stored. It refuses an
// empty list and an unknown scope, naming it; the result is in
// AllScopes' order without repeats.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		sc := Scope(f)
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (scopes: %s)", f, JoinScopes(AllScopes))
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scope given (scopes: %s)", JoinScopes(AllScopes))
	}
	return canonicalScopes(out), nil
}

// canonicalScopes sorts scopes into AllScopes' order and drops repeats.
func canonicalScopes(in []Scope) []Scope {
	out := make([]Scope, 0, len(in))
	for _, sc := range AllScopes {
		if slices.Contains(in, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// JoinScopes writes scopes as ParseScopes reads them.
func JoinScopes(scopes []Scope) string {
	var b strings.Builder
	for i, sc := range scopes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(sc))
	}
	return b.String()
}

// Allows reports whether the key's scopes include want; admin includes
// every scope. It does not look at expiry or revocation (Usable does).
func (k APIKey) Allows(want Scope) bool {
	for _, sc := range k.Scopes {
		if sc == want || sc == ScopeAdmin {
			return true
		}
	}
	return false
}
