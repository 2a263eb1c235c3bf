// Package cputime reads the CPU time this process used, for benchmarks
// that report CPU per operation beside wall-clock time: on the shared,
// loaded machines the figures are measured on, CPU is the steadier one.
//
// Unix reads getrusage; elsewhere it reports 0 and benchmarks omit the
// figure.
package cputime
