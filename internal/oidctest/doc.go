// Package oidctest runs a real OpenID provider inside a test process:
// zitadel's op package over an in-memory storage written here (one
// client, users with groups, codes that work once), on a loopback HTTPS
// server with its own login page, and knobs that forge a token's
// audience or nonce so that the dashboard's refusals can be tried.
// Tests only: internal/archtest keeps it and zitadel out of both
// binaries. Portable.
package oidctest
