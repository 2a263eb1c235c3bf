package cli

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/postern-dev/postern/agent/logfile"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/installer/service"
)

// LogFile is the service's log in the state directory on Windows and
// macOS; Linux services log to the journal through stderr.
const LogFile = "agent.log"

// enrollPoll is how often a service installed before enrollment looks for
// an identity.
const enrollPoll = 30 * time.Second

func runService(ctx context.Context, f *Factory, opts *RunOptions) error {
	log, closeLog, err := serviceLogger(f, opts.StateDir, runtime.GOOS)
	if err != nil {
		return err
	}
	defer closeLog()
	return service.Run(ctx, func(ctx context.Context) error {
		if err := newEnrollWaiter(f, opts.StateDir, log).wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error("agent cannot start", "error", err.Error())
			return err
		}
		r, h, ks, closeTPM, err := newRunner(f, opts, log)
		if err != nil {
			log.Error("agent cannot start", "error", err.Error())
			return err
		}
		defer closeTPM()
		log.Info("agent started", "state_dir", opts.StateDir, "replay", opts.Replay != "")
		if opts.Replay == "" {
			logBrowserSync(log, syncBrowsers(ctx, h, opts.StateDir, ks, opts.TPM))
			stop := serveDeviceKey(ctx, h, opts.StateDir, ks, log)
			defer stop()
		}
		err = RunWatched(ctx, r, h, log)
		log.Info("agent stopped")
		return err
	})
}

// serviceLogger logs JSON to stderr on Linux (the journal), else to the
// rotated log file in the state directory: a Windows service has no
// stderr, and launchd would drop it.
func serviceLogger(f *Factory, stateDir, goos string) (*slog.Logger, func(), error) {
	if goos == "linux" {
		return f.jsonLogger(), func() {}, nil
	}
	dir, err := state.Open(stateDir)
	if err != nil {
		return nil, nil, err
	}
	lf, err := logfile.Open(filepath.Join(dir.Path(), LogFile), logfile.DefaultMaxSize, logfile.DefaultGenerations)
	if err != nil {
		return nil, nil, err
	}
	var w io.Writer = lf
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return log, func() { _ = lf.Close() }, nil
}
