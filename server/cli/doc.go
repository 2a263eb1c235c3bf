// Package cli holds postern-server's cobra commands: serve, token create,
// apikey create and version. Main maps errors to exit codes; the commands
// themselves only parse flags and call the server packages.
//
// The package is portable.
package cli
