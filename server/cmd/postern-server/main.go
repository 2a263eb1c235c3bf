package main

import (
	"os"

	"github.com/postern-dev/postern/internal/version"
	"github.com/postern-dev/postern/server/cli"
)

func main() {
	// The same stamp as the agent's (make: -X .../internal/version.Version),
	// so that both binaries and every package carry one version.
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, version.Version))
}
