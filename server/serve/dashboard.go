package serve

import (
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
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
func newDashboard(cfg Config, st store.Store, current func() *policy.Set, pin [sha256.Size]byte, rech dashboard.Rechecker, opt Options, log *slog.Logger) (*dashboard.Dashboard, error) {
	acc, _ := store.AccountsOf(st)
	us, err := users.New(users.Config{Store: acc, Now: opt.Now, Logger: log.With("component", "users")})
	if err != nil {
		return nil, err
	}
	auditLog := audit.New(st, opt.Now, log.With("component", "audit"))
	exc := dashboard.ExceptionService(exceptions.NewService(st, auditLog, opt.Now), st)
	return dashboard.New(dashboard.Config{Store: st, Users: us, Policy: func() *checks.Policy { return current().Default.Policy },
		PolicyFor: func(org string) *checks.Policy { return current().For(org).Policy },
		Rechecker: rech, Exceptions: exc, Audit: auditLog, CAPin: pin, EnrollAddr: enrollAddr(cfg), Now: opt.Now,
		Logger: log.With("component", "dashboard")})
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
