// Package gatewaytest runs a real reverse proxy (Debian's nginx) in front
// of a small upstream, asking a real postern-server's /v1/authz about
// devices enrolled by the real agent, with the nginx configuration read
// verbatim from docs/gateway-nginx.md. It holds tests only.
//
// nginx runs as a child process on loopback ports with a temporary
// prefix. Without nginx the tests fail when CI is set (with an install
// hint) and are skipped otherwise. Linux only in practice; the package
// builds everywhere.
package gatewaytest
