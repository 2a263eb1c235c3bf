// Package e2e holds the end-to-end tests: a real postern-server and a real
// agent in one process, talking QUIC with mutual TLS on loopback, with the
// machine replayed from recorded snapshots and the clock injected.
package e2e
