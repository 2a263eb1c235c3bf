// Package archtest holds tests that keep the architecture honest: the
// server and the wire schema must not link agent-only or OS-specific code,
// and the agent must not link server code.
package archtest
