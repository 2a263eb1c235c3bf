// Package api is postern-server's HTTPS API for gateways: the decision
// endpoint (GET /v1/decision, API key required), the reverse-proxy form for
// nginx auth_request and Envoy (GET /v1/authz, trusted only from configured
// proxy addresses), and GET /healthz. Handlers are plain http.Handlers over
// the store and the decision package, with an injected clock, tested with
// httptest.
//
// The package is portable.
package api
