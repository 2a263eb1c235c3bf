// Package serve wires postern-server together: it loads the configuration,
// the device CA and server certificate, the store and the policy, runs the
// QUIC ingest endpoint and the HTTPS API side by side, prunes old history,
// and shuts everything down when its context ends.
//
// The package is portable; DefaultDataDir depends on the OS.
package serve
