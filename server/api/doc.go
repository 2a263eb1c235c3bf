// Package api is postern-server's HTTPS API for gateways: the decision
// endpoint (GET /v1/decision, API key required), the reverse-proxy form for
// nginx auth_request, Caddy forward_auth and Envoy ext_authz (/v1/authz,
// trusted only from configured proxy addresses), live decision changes as
// Server-Sent Events (GET /v1/events; the events and their public form
// are the events package's, which also delivers the webhooks), the OpenAPI document (GET /v1/openapi.json, checked in as
// docs/openapi.json), Prometheus metrics (GET /metrics, API key required),
// and the probes GET /healthz and GET /readyz. Handlers are plain
// http.Handlers over the store and the decision package, with an injected
// clock, tested with httptest.
//
// The package is portable.
package api
