// Package e2e holds end-to-end tests of the agent's live behaviour against
// a real in-process server: a posture change reaches the gateway's
// decision within seconds, and reports still arrive when UDP is blocked
// (TLS over TCP fallback). It has no non-test code. Linux, Windows and
// macOS.
package e2e
