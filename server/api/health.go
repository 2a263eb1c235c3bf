package api

import (
	"context"
	"errors"
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

// NotReady is an error from Config.Ready whose Reason may be shown to
// anyone: it names what is wrong without addresses, paths or driver text,
// since the probe needs no key. The wrapped error is logged.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *NotReady) Unwrap() error { return e.Err }

type notReadyBody struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// readyz says whether the server can answer decisions and take reports:
// listeners up and the database able to commit. The reason is shown when
// Ready gave a NotReady; the whole error is logged.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.cfg.Ready(ctx); err != nil {
			a.log.Warn("not ready", "err", err)
			body := notReadyBody{Error: "not ready", Reason: "unknown (see the server's log)"}
			var nr *NotReady
			if errors.As(err, &nr) {
				body.Reason = nr.Reason
			}
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ready\n"))
}
