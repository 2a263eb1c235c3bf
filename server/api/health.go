package api

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds a readiness probe, so that a wedged database turns
// into "not ready" rather than a hung probe.
const readyTimeout = 2 * time.Second

// healthz says the process is alive; it touches nothing else.
func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz says whether the server can answer decisions: listeners up and
// the database reachable. The cause is logged, not shown, since the probe
// needs no key.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			a.log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "not ready"})
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ready\n"))
}
