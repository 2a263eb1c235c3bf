package dashboard

import (
	"context"
	"net/http"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// The second factor a password sign-in passed, as its audit entry names
// it: an investigator asks which sign-ins had one.
const (
	factorNone        = "none"
	factorTOTP        = "totp"
	factorRecovery    = "recovery_code"
	factorSecurityKey = "security_key"
)

// auditSignIn records a password sign-in that earned a session
// (user_signed_in, as single sign-on records its own): who, from where,
// with which role and which second factor. Only a session is recorded,
// never the half-signed-in state between password and second factor.
func (d *Dashboard) auditSignIn(r *http.Request, u store.User, factor string) {
	d.cfg.Audit.Record(context.WithoutCancel(r.Context()), audit.Entry{Actor: "user:" + u.Username, Kind: audit.KindSignedIn,
		Details: map[string]any{"user": u.Username, "method": "password", "second_factor": factor, "role": u.Role, "source": sourceAddr(r)}})
}
