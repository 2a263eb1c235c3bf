package dashboard

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// Defaults of Config.
const (
	// IdleTimeout ends a session after 20 minutes without a request
	// (Policy 550.04 C.7.a.v applied to the dashboard itself).
	IdleTimeout  = 20 * time.Minute
	pageSize     = 50
	maxFormBytes = 32 << 10
)

// Rechecker asks a connected agent to check and report now;
// *ingest.Server implements it.
type Rechecker interface {
	Recheck(deviceID string) error
	// Connected reports whether the device's agent is connected now.
	Connected(deviceID string) bool
}

// Auditor records who did what; *audit.Log implements it.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry)
}

// Exceptions grants and ends control exceptions. The default works on
// the store directly and audits each change.
type Exceptions interface {
	// Grant validates and stores e, filling its ID and CreatedAt.
	Grant(ctx context.Context, e store.Exception) (store.Exception, error)
	// End ends the exception id early, by the named user.
	End(ctx context.Context, id, by string) error
	// List returns exceptions that had not expired at since.
	List(ctx context.Context, since time.Time) ([]store.Exception, error)
}

// Config is what the dashboard needs. Store, Users, Decisions and Policy
// are required.
type Config struct {
	Store store.Store
	Users *users.Service
	// Decisions is the decision engine: every status, access and count
	// shown is its answer.
	Decisions Decider
	// Policy returns the policy in force; it may change between calls.
	Policy func() *checks.Policy
	// PolicyFor returns the policy in force for an organization's devices
	// (its profile, or the default); nil means Policy for every device.
	PolicyFor func(org string) *checks.Policy
	// Rechecker is nil when ingest is not running (tests).
	Rechecker  Rechecker
	Exceptions Exceptions
	Audit      Auditor
	// CAPin is the device CA's pin, embedded in enrollment tokens.
	CAPin [sha256.Size]byte
	// EnrollAddr is the host:port agents dial, shown in install commands.
	EnrollAddr string
	// OIDC, when set, offers sign-in through an OpenID provider
	// (oidc.go); LocalSignIn says where local passwords are accepted.
	OIDC        *OIDCConfig
	LocalSignIn LocalSignIn
	Now         func() time.Time
	Logger      *slog.Logger

	// WebAuthnHosts are the host names security keys may be registered
	// and used on (WebAuthn relying party IDs); empty allows the name
	// the browser reached the dashboard by, if it is not an IP address.
	WebAuthnHosts []string
}

// Dashboard is the dashboard's HTTP handler.
type Dashboard struct {
	cfg   Config
	st    store.Store
	now   func() time.Time
	log   *slog.Logger
	pages *pages
	mux   *http.ServeMux
	// sso is nil without single sign-on.
	sso *sso
}

// New checks cfg and builds the dashboard.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Store == nil || cfg.Users == nil || cfg.Decisions == nil || cfg.Policy == nil {
		return nil, errors.New("dashboard: store, users, decisions and policy are required")
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PolicyFor == nil {
		cfg.PolicyFor = func(string) *checks.Policy { return cfg.Policy() }
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.New(cfg.Store, cfg.Now, cfg.Logger)
	}
	if cfg.Exceptions == nil {
		cfg.Exceptions = &storeExceptions{st: cfg.Store, audit: cfg.Audit, now: cfg.Now}
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	if cfg.LocalSignIn, err = ParseLocalSignIn(string(cfg.LocalSignIn)); err != nil {
		return nil, fmt.Errorf("dashboard: local sign-in: %w", err)
	}
	d := &Dashboard{cfg: cfg, st: cfg.Store, now: cfg.Now, log: cfg.Logger, pages: p}
	if cfg.OIDC != nil {
		if d.sso, err = newSSO(*cfg.OIDC); err != nil {
			return nil, err
		}
	}
	d.mux = d.routes()
	return d, nil
}

// Mount registers the dashboard on mux under /ui/, and / redirects there.
func (d *Dashboard) Mount(mux *http.ServeMux) {
	mux.Handle("/ui/", d)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
}

// ServeHTTP serves the dashboard's routes with its security headers.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(d.mux).ServeHTTP(w, r)
}

func (d *Dashboard) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", staticHandler())
	m.HandleFunc("GET /ui/login", d.loginPage)
	m.HandleFunc("POST /ui/login", d.login)
	if d.sso != nil {
		m.HandleFunc("GET "+OIDCLoginPath, d.oidcLogin)
		m.HandleFunc("GET "+OIDCCallbackPath, d.oidcCallback)
	}
	m.Handle("POST /ui/logout", d.action("", d.logout))
	m.Handle("GET /ui/password", d.page("", d.passwordPage))
	m.Handle("POST /ui/password", d.action("", d.changePassword))
	d.mfaRoutes(m)
	d.apiKeyRoutes(m)

	m.Handle("GET /ui/{$}", d.page(users.PermView, d.overview))
	m.Handle("GET /ui/devices", d.page(users.PermView, d.devices))
	m.Handle("GET /ui/devices.csv", d.page(users.PermView, d.devicesCSV))
	m.Handle("GET /ui/devices/{id}", d.page(users.PermView, d.device))
	m.Handle("POST /ui/devices/{id}/recheck", d.action(users.PermRecheck, d.recheck))
	m.Handle("POST /ui/devices/{id}/revoke", d.action(users.PermRevoke, d.revoke))
	m.Handle("POST /ui/devices/{id}/approve", d.action(users.PermRevoke, d.approveDevice))
	m.Handle("POST /ui/devices/{id}/deny", d.action(users.PermRevoke, d.denyDevice))
	m.Handle("POST /ui/devices/{id}/notes", d.action(users.PermNote, d.addNote))
	m.Handle("POST /ui/devices/{id}/exceptions", d.action(users.PermException, d.grantException))
	m.Handle("GET /ui/exceptions", d.page(users.PermView, d.exceptions))
	m.Handle("POST /ui/exceptions/{id}/end", d.action(users.PermException, d.endException))
	m.Handle("GET /ui/tokens", d.page(users.PermTokens, d.tokens))
	m.Handle("POST /ui/tokens", d.action(users.PermTokens, d.createToken))
	m.Handle("POST /ui/tokens/{hash}/revoke", d.action(users.PermTokens, d.revokeToken))
	m.Handle("GET /ui/secrets", d.page(users.PermTokens, d.secrets))
	m.Handle("POST /ui/secrets", d.action(users.PermTokens, d.createSecret))
	m.Handle("POST /ui/secrets/{id}/revoke", d.action(users.PermTokens, d.revokeSecret))
	m.Handle("GET /ui/audit", d.page(users.PermViewAudit, d.auditLog))
	m.Handle("GET /ui/audit.csv", d.page(users.PermViewAudit, d.auditCSV))
	m.Handle("GET /ui/users", d.page(users.PermUsers, d.usersPage))
	m.Handle("POST /ui/users/{name}/unlock", d.action(users.PermUsers, d.unlockUser))
	m.Handle("POST /ui/users", d.action(users.PermUsers, d.addUser))
	m.Handle("POST /ui/users/{name}/role", d.action(users.PermUsers, d.setRole))
	m.Handle("POST /ui/users/{name}/disable", d.action(users.PermUsers, d.disableUser))
	m.Handle("POST /ui/users/{name}/enable", d.action(users.PermUsers, d.enableUser))
	m.Handle("POST /ui/users/{name}/delete", d.action(users.PermUsers, d.deleteUser))
	m.Handle("POST /ui/users/{name}/review", d.action(users.PermUsers, d.reviewUser))
	m.Handle("POST /ui/users/{name}/reset-password", d.action(users.PermUsers, d.resetUserPassword))
	m.Handle("/ui/", d.page("", func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such page.")
	}))
	return m
}

// thresholds are the status cutoffs at now.
func (d *Dashboard) thresholds() store.Thresholds {
	return store.Thresholds{Now: d.now(), StaleAfter: d.cfg.Policy().MaxReportAge, InactiveAfter: decision.InactiveAfter}
}

// RecordTrend stores today's fleet counts for the 30-day chart.
func (d *Dashboard) RecordTrend(ctx context.Context) error {
	now := d.now()
	sum, err := d.summarize(ctx)
	if err != nil {
		return err
	}
	return d.st.RecordTrend(ctx, now, sum.byStatus)
}

// Maintain records the trend, deletes idle sessions and deactivates
// accounts unused for 90 days every interval until ctx ends.
func (d *Dashboard) Maintain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := d.RecordTrend(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("record trend failed", "err", err)
		}
		if _, err := d.st.DeleteIdleSessions(ctx, d.now().Add(-IdleTimeout)); err != nil && ctx.Err() == nil {
			d.log.Warn("delete idle sessions failed", "err", err)
		}
		if _, err := d.st.DeleteExpiredMFAChallenges(ctx, d.now()); err != nil && ctx.Err() == nil {
			d.log.Warn("delete expired sign-in challenges failed", "err", err)
		}
		// Policy 550.04 A.5: accounts unused for 90 days are deactivated
		// by the server, not only refused when they next sign in.
		if _, err := d.cfg.Users.SweepInactive(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("deactivate inactive accounts failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
