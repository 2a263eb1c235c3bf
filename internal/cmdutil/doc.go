// Package cmdutil holds the command-line conventions both binaries share:
// exit codes (0 ok, 1 the thing asked failed, 2 usage error), usage-error
// detection for every cobra command, --version, JSON output that keeps
// <, > and & as they are, and refusing to overwrite a file without
// --force. Portable; it links only cobra and the standard library.
package cmdutil
