// Package cli holds the postern-agent command line (cobra): check, enroll,
// run, status and version. Each command parses its flags into an options
// struct and calls a run function that tests can replace (the runF
// pattern); only Main maps errors to exit codes. Enroll is exported for
// end-to-end tests. Portable.
package cli
