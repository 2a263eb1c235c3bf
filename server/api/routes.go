package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/metrics"
	"github.com/postern-dev/postern/server/store"
)

// DefaultHeartbeat is how often /v1/events sends a keep-alive comment, well
// under the idle timeouts of common proxies and load balancers (60 s).
const DefaultHeartbeat = 15 * time.Second

// route is one served endpoint. Every route must be described in
// openapi.json; a test holds the two together.
type route struct {
	// method is empty for routes that answer every method.
	method, path string
	// doc is the OpenAPI path describing the route when it differs from path.
	doc     string
	pattern string
	handler http.Handler
}

func (a *api) routes() []route {
	rs := []route{
		{method: "GET", path: "/healthz", handler: http.HandlerFunc(a.healthz)},
		{method: "GET", path: "/readyz", handler: http.HandlerFunc(a.readyz)},
		{method: "GET", path: "/v1/openapi.json", handler: http.HandlerFunc(serveOpenAPI)},
		{method: "GET", path: "/v1/decision", handler: a.requireScope(store.ScopeDecisionRead, http.HandlerFunc(a.decision))},
		// Proxies send the original method (nginx, Envoy) and Envoy appends
		// the original path, so authz answers any method under its prefix.
		{path: "/v1/authz", doc: "/v1/authz", handler: http.HandlerFunc(a.authz)},
		{path: "/v1/authz/", doc: "/v1/authz", handler: http.HandlerFunc(a.authz)},
		{method: "GET", path: "/v1/blocked", handler: http.HandlerFunc(a.blocked)},
		{method: "GET", path: "/v1/events", handler: a.requireScope(store.ScopeEventsRead, http.HandlerFunc(a.events))},
		{method: "GET", path: "/metrics", handler: a.requireScope(store.ScopeDecisionRead, a.metricsHandler())},
	}
	rs = append(rs, a.manageRoutes()...)
	for i := range rs {
		rs[i].pattern = strings.TrimSpace(rs[i].method + " " + rs[i].path)
		if rs[i].doc == "" {
			rs[i].doc = rs[i].path
		}
	}
	return rs
}

func (a *api) metricsHandler() http.Handler {
	if a.cfg.Metrics == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "metrics are not enabled"})
		})
	}
	return a.cfg.Metrics.Handler()
}

// observe records a decision in the metrics.
func (a *api) observe(endpoint string, d decision.Decision, err error, start time.Time) {
	m := a.cfg.Metrics
	if m == nil {
		return
	}
	took := time.Since(start) // wall clock: measures elapsed time
	switch {
	case err != nil:
		m.ObserveDecision(endpoint, metrics.ResultError, nil, took)
	case d.Allow:
		m.ObserveDecision(endpoint, metrics.ResultAllow, nil, took)
	default:
		rs := make([]metrics.Reason, len(d.Reasons))
		for i, r := range d.Reasons {
			rs[i] = metrics.Reason{Code: r.Code, Control: r.Control}
		}
		m.ObserveDecision(endpoint, metrics.ResultDeny, rs, took)
	}
}
