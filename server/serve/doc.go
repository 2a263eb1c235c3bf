// Package serve wires postern-server together: it loads the configuration,
// the device CA and server certificate, the store and the policy, runs the
// QUIC ingest endpoint and the HTTPS API side by side, prunes old history,
// and shuts everything down when its context ends. decisions.go adds the
// policy manager (reload on SIGHUP and file change, mass-failure guard),
// the exception index, the decision engine that publishes decision changes
// on the event bus, and the audit log with its retention.
//
// The package is portable; DefaultDataDir depends on the OS.
package serve
