// Package runner is the agent's reporting loop: every interval (5 minutes
// with ±10% jitter by default) it collects the facts, evaluates them
// locally with the last policy the server pushed, and spools the report;
// a second loop keeps a session with the server, delivers the spool in
// order, and reconnects with jittered exponential backoff. A report leaves
// the spool only after its ack, so a lost ack just means a retransmission,
// which the server acknowledges again as a duplicate. Once runs a single
// check-report-ack for `run --once` and tests. Portable.
package runner
