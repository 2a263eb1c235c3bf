// Package cli holds postern-server's command line. Every command is made
// by NewCmdX(f, runF): it parses flags and arguments into XOptions and
// calls xRun(ctx, f, opts), or runF when a test gives one, as gh's
// commands do. The Factory gives the streams, clock, environment and
// version; a command's StoreOptions select the server it opens
// (f.withStore), with the audit log its changes are recorded in. Execute
// is the only place that maps errors to exit codes (internal/cmdutil).
//
// The package is portable.
package cli
