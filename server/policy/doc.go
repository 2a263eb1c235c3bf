// Package policy loads postern-server's policy file: the default profile
// (exactly the format of checks.ParsePolicy, see docs/architecture.md), server-only
// settings (user attestation), and per-organization profiles that override
// the default. Manager keeps the active Set behind an atomic pointer,
// reloads it on SIGHUP or when the file changes, numbers every applied
// version, and holds back a change that would flip too many devices to
// deny at once (the mass-failure guard). The file format is documented in
// docs/policy.md.
//
// The package is portable (linux, windows, darwin; CGO_ENABLED=0).
package policy
