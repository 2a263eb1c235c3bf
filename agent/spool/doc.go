// Package spool keeps the reports that the server has not yet
// acknowledged, one file per report named by its zero-padded sequence
// number, so that reports made offline are delivered in order once the
// server is reachable again and survive restarts. It is bounded by age and
// total size (oldest dropped first); a file that cannot be decoded is moved
// to a quarantine folder rather than stopping delivery. Portable.
package spool
