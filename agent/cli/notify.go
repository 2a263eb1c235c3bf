package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/notify"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// notifyTimeout bounds showing one notification.
const notifyTimeout = 10 * time.Second

// desktopNotifier returns the runner's cycle hook that tells the console
// user when this machine falls out of compliance; nil for a replayed
// snapshot and for run --once, where nobody is to be told.
func desktopNotifier(opts *RunOptions, h host.Host, log *slog.Logger) func(context.Context, runner.Result) {
	if opts.Replay != "" || opts.Once {
		return nil
	}
	n := notify.New(notify.Config{
		GOOS:        h.GOOS(),
		Run:         allowcmd.Exec{GOOS: h.GOOS(), Timeout: notifyTimeout},
		ConsoleUser: func(ctx context.Context) (consoleuser.User, error) { return consoleuser.Find(ctx, h) },
		Logger:      log,
	})
	return func(ctx context.Context, res runner.Result) { n.Observe(ctx, res.Verdicts) }
}
