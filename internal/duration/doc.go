// Package duration parses and prints durations as both binaries' flags take
// them: Go's units (h, m, s) plus whole days ("30d"), since exceptions,
// tokens and retention are thought of in days. Portable.
package duration
