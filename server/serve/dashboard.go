package serve

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// dashboardMaintainEvery is how often the dashboard records the daily
// compliance trend and deletes idle sessions.
const dashboardMaintainEvery = 15 * time.Minute

// newDashboard builds the dashboard over the store. current is the
// reloadable policy (policy.Manager.Current), read at every request so a
// reload shows without a restart; rech pushes rechecks to connected
// agents (the ingest server).
func newDashboard(cfg Config, st store.Store, lc *lifecycle, pin [sha256.Size]byte, rech dashboard.Rechecker, opt Options, log *slog.Logger) (*dashboard.Dashboard, error) {
	current := lc.policies.Current
	acc := st
	// The key sealing TOTP secrets lives beside ca.key; replicas sharing
	// a database need the same file (docs/dashboard.md).
	mfaKey, err := users.LoadOrCreateMFAKey(cfg.DataDir)
	if err == nil {
		err = users.CheckMFAKey(context.Background(), st, mfaKey)
	}
	if err != nil {
		return nil, err
	}
	us, err := users.New(users.Config{Store: acc, Audit: lc.audit, Now: opt.Now, Logger: log.With("component", "users"),
		LockFor: cfg.LockoutDuration, MFAKey: mfaKey, RequireMFA: cfg.RequireMFA})
	if err != nil {
		return nil, err
	}
	if cfg.RequireMFA {
		// Sessions kept from before require_mfa was set end: their
		// accounts enrol before their next page.
		if _, err := us.EndSessionsWithoutMFA(context.Background()); err != nil {
			return nil, err
		}
	}
	// The lifecycle's audit log and exceptions service: one writer of the
	// hash chain, and a grant applies at once rather than at the next
	// index refresh.
	exc := appliedExceptions{Exceptions: dashboard.ExceptionService(lc.exceptions, st), changed: lc.exceptionsChanged}
	var sso *dashboard.OIDCConfig
	if cfg.OIDC != nil {
		if sso, err = cfg.OIDC.dashboard(); err != nil {
			return nil, err
		}
		log.Info("dashboard single sign-on", "issuer", sso.Issuer, "client_id", sso.ClientID, "local_sign_in", cfg.LocalSignIn)
	}
	return dashboard.New(dashboard.Config{OIDC: sso, LocalSignIn: dashboard.LocalSignIn(cfg.LocalSignIn), Store: st, Users: us, Decisions: lc.engine, Policy: func() *checks.Policy { return current().Default.Policy },
		PolicyFor: func(org string) *checks.Policy { return current().For(org).Policy },
		Rechecker: rech, Exceptions: exc, Audit: lc.audit, CAPin: pin, EnrollAddr: enrollAddr(cfg), WebAuthnHosts: webAuthnHosts(cfg), Now: opt.Now,
		Logger: log.With("component", "dashboard")})
}

// appliedExceptions tells the lifecycle after each change the dashboard
// makes.
type appliedExceptions struct {
	dashboard.Exceptions
	changed func(context.Context)
}

func (a appliedExceptions) Grant(ctx context.Context, e store.Exception) (store.Exception, error) {
	out, err := a.Exceptions.Grant(ctx, e)
	if err == nil {
		a.changed(ctx)
	}
	return out, err
}

func (a appliedExceptions) End(ctx context.Context, id, by string) error {
	err := a.Exceptions.End(ctx, id, by)
	if err == nil {
		a.changed(ctx)
	}
	return err
}

// withDashboard serves the dashboard under /ui/ and everything else with
// the API.
func withDashboard(apiHandler http.Handler, d *dashboard.Dashboard) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	d.Mount(mux)
	return mux
}

// enrollAddr is the address shown in install commands: the first server
// name with the QUIC port, or a placeholder host.
func enrollAddr(cfg Config) string {
	_, port, err := net.SplitHostPort(cfg.QUICAddr)
	if err != nil {
		return ""
	}
	host := "SERVER"
	if len(cfg.ServerNames) > 0 {
		host = cfg.ServerNames[0]
	}
	return net.JoinHostPort(host, port)
}

// webAuthnHosts are the server names security keys may be bound to: the
// configured DNS names (IP addresses cannot be WebAuthn relying
// parties). None configured leaves the name the browser used.
func webAuthnHosts(cfg Config) []string {
	var out []string
	for _, n := range cfg.ServerNames {
		if net.ParseIP(n) == nil {
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}
