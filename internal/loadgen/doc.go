// Package loadgen is Postern's load generator (cmd/postern-load): it runs
// a real postern-server as a child process and drives it with N simulated
// agents over real QUIC with real device certificates (each enrolled with
// a one-time token), reporting on a schedule with facts that flip one
// control's compliance, while gateways ask for decisions over HTTPS and
// follow the event stream. It measures what an operator sizes a server
// by: reports per second, report round trips, decision latency under that
// load, the delay from a report to its event, the server's memory per
// connected agent and CPU per report, and every failure.
//
// It is a test tool, never part of the product: internal/archtest keeps
// both binaries from linking it. Linux only (it reads /proc).
package loadgen
