// Package attest holds the yearly user attestation of Policy 550.04
// C.7.a.vi, vii, x and xi: the statement text the agent shows, its version
// and SHA-256, the interactive prompt that takes a user's acceptance, and
// the due-date arithmetic `status` uses. It is portable (linux, windows,
// darwin) and touches no state; package agent/state stores the result.
package attest
