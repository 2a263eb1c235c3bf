// Command postern-agent checks this device against Policy 550.04 and
// reports its posture to the Postern server. See package agent/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/postern-dev/postern/agent/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.DefaultFactory(os.Stdout, os.Stderr), os.Args[1:])
	stop()
	os.Exit(code)
}
