// Package swtpmtest starts software TPMs (Debian's swtpm) for tests: each
// TPM 2.0 is manufactured once by swtpm_setup, with its endorsement key
// certificate issued by swtpm_localca from a throwaway CA, and cached
// under ${POSTERN_CACHE:-/var/cache/postern}/swtpm; every test then runs
// a fresh copy of that state in its own swtpm process, killed at cleanup.
//
// Different names give different TPMs (their own seeds, so a key blob of
// one does not load in another); different CA names give EK certificates
// from unrelated CAs. Tests skip, saying why, where swtpm is not
// installed, except under CI (CI=true), where a missing swtpm fails.
//
// Linux only; a test harness, kept out of both binaries.
package swtpmtest
