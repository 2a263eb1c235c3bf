// Package metrics holds postern-server's Prometheus metrics: decisions by
// result and reason, ingested reports by result, and latency histograms of
// the decision API and report ingestion. Metrics live in their own
// registry (not the global one) so that tests and several servers in one
// process do not collide, and are served by Handler in the Prometheus text
// format.
//
// The package is portable.
package metrics
