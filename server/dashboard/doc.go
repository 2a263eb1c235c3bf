// Package dashboard serves the security team's pages on postern-server's
// HTTPS port under /ui/: sign-in with local accounts (server/users) and
// their second factors (mfa.go: a browser-bound second step before any
// session; account.go: the user's authenticator app, security keys and
// recovery codes; webauthn.go: security keys with go-webauthn),
// the fleet overview, the device list with filters and a CSV export for
// the monthly review, device detail with recheck, revoke and exceptions,
// enrollment tokens, exceptions, the audit log, and account administration
// (through server/users, which generates the one-time initial password and
// audits every change). Every status, access (allowed, blocked, allowed by
// exception, warned until) and count shown is the decision engine's
// answer at the request (Decider, *decision.Engine): the same function as
// the decision API, so no page can disagree with the gateway.
//
// Pages are rendered on the server with html/template from go:embed
// assets; there is no inline script or style, so the Content-Security-Policy
// allows only 'self'. Sessions are random 256-bit IDs kept in a
// __Host- cookie and stored hashed; each has a synchronizer CSRF token
// checked on every state change. Every action checks the signed-in user's
// role on the server. The package is portable to every server OS.
package dashboard
