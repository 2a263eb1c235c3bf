// Package gatewaytest runs real reverse proxies (Debian's nginx and
// Caddy) in front of a small upstream, asking a real postern-server's
// /v1/authz about devices enrolled by the real agent, with each proxy's
// configuration read verbatim from docs/gateway-nginx.md. It holds tests
// only. Envoy has no Debian package: its ext_authz header
// (X-Forwarded-Client-Cert) is covered by server/api's tests alone.
//
// BenchmarkGatewayNginx and BenchmarkDecisionAPI (make bench-gateway)
// measure the gateway path and the decision API as ratios against nginx
// without the check and a bare Go TLS handler.
//
// TestChromiumThroughTheGateway adds a real browser: the agent places the
// device certificate in a fresh NSS database and writes the
// AutoSelectCertificateForUrls policy, and Debian's headless Chromium,
// driven by chromedp, meets the EHR page, Postern's block page and the
// "could not be verified" page. Chromium reads managed policies only from
// /etc/chromium, so it runs in a private mount namespace (unshare, as
// root or in a user namespace) where the test's folder is bind-mounted
// there; the machine's /etc is never written.
//
// nginx and caddy run as child processes on loopback ports with
// temporary state. Without them the tests fail when CI is set (with an install
// hint) and are skipped otherwise. Linux only in practice; the package
// builds everywhere.
package gatewaytest
