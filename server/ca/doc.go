// Package ca is the server's device certificate authority. On first start it
// creates an ECDSA P-256 CA (ten years) in the data directory and a server TLS
// certificate signed by it; it then signs the device certificates requested at
// enrollment and renewal. Private keys are written with mode 0600 and a key
// file readable by group or others is refused on load (on Unix-like systems;
// Windows relies on the data directory's ACL).
//
// The package is portable and has no OS-specific code paths beyond the
// permission check.
package ca
