// Package version holds the build's version string, set by the linker
// (-X github.com/postern-dev/postern/internal/version.Version=...). It is
// portable and shared by both binaries.
package version

// Version is the software version; "dev" for builds outside `make`.
var Version = "dev"
