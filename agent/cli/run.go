package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/watch"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/duration"
)

// DefaultOnceTimeout bounds `run --once` from check to ack.
const DefaultOnceTimeout = 2 * time.Minute

// RunOptions are the flags of `run`.
type RunOptions struct {
	StateDir string
	Once     bool
	Replay   string
	Interval time.Duration
	Timeout  time.Duration
	// TPM names the TPM holding a hardware device key (see openTPM).
	TPM string
	// Service is set by the installed service: log to a file where there
	// is no journal, wait for enrollment instead of failing, and answer
	// the Windows service control manager.
	Service bool
}

// NewCmdRun returns `run`.
func NewCmdRun(f *Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Check this device periodically and report to the server (the service's main loop)",
		Long: `Check this device every 5 minutes (with jitter), report the facts to the
server over QUIC and keep unacknowledged reports in a spool until the server
has them. With --once: one check and report, then exit 0 once the server has
acknowledged it, or 2 if it has not within --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Interval < 0 || opts.Timeout <= 0 {
				return errors.New("--interval must not be negative and --timeout must be positive")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), f, opts)
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	addTPMFlag(cmd, &opts.TPM)
	cmd.Flags().BoolVar(&opts.Once, "once", false, "check, report, wait for the ack, exit")
	cmd.Flags().StringVar(&opts.Replay, "replay", "", "report a recorded `SNAPSHOT` instead of this machine (tests, demos)")
	cmd.Flags().Var(duration.NewValue(&opts.Timeout, DefaultOnceTimeout), "timeout", "with --once, how long to wait for the ack")
	cmd.Flags().Var(duration.NewValue(&opts.Interval, 0), "interval", "time between checks (default 5m)")
	_ = cmd.Flags().MarkHidden("interval")
	cmd.Flags().BoolVar(&opts.Service, "service", false, "run as the installed system service")
	_ = cmd.Flags().MarkHidden("service")
	return cmd
}

func runRun(ctx context.Context, f *Factory, opts *RunOptions) error {
	if opts.Service && !opts.Once {
		return runService(ctx, f, opts)
	}
	log := f.jsonLogger()
	r, h, _, closeTPM, err := newRunner(f, opts, log)
	if err != nil {
		return err
	}
	defer closeTPM()
	if !opts.Once {
		log.Info("agent started", "state_dir", opts.StateDir, "replay", opts.Replay != "")
		return RunWatched(ctx, r, h, log)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	res, err := r.Once(ctx)
	if err != nil {
		return err
	}
	verdict := "not compliant"
	if res.Compliant {
		verdict = "compliant"
	}
	fmt.Fprintf(f.Out, "report %d acknowledged by the server (%s)\n", res.Sequence, verdict)
	return nil
}

// newRunner returns the runner, its host, the key store holding a
// hardware device key (nil for a software key) and what closes that
// store.
func newRunner(f *Factory, opts *RunOptions, log *slog.Logger) (*runner.Runner, host.Host, devkey.Store, func(), error) {
	h, _, err := openHost(f, opts.Replay)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ks, err := storeForKey(opts.StateDir, opts.TPM)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	closeTPM := func() {
		if ks != nil {
			_ = ks.Close()
		}
	}
	cfg := runner.Config{
		StateDir: opts.StateDir, Host: h, Device: f.Device,
		Interval: opts.Interval, Clock: f.Now, Logger: log, KeyStore: ks,
		OnCycle: desktopNotifier(opts, h, log),
	}
	if opts.Replay == "" {
		// A renewed certificate replaces the old one in the browsers'
		// stores; a refused (revoked, retired) identity's leaves them.
		cfg.OnRenewed = func(ctx context.Context) { logBrowserSync(log, syncBrowsers(ctx, h, opts.StateDir, ks, opts.TPM)) }
		cfg.OnGatewayURL = cfg.OnRenewed
		cfg.OnRefused = func() {
			if err := clearBrowsers(context.Background(), h, opts.StateDir); err != nil {
				log.Warn("device certificate not removed from the browsers", "error", err.Error())
			}
		}
	}
	r, err := runner.New(cfg)
	if err != nil {
		closeTPM()
		return nil, nil, nil, nil, err
	}
	return r, h, ks, closeTPM, nil
}

// RunWatched runs r with the live-posture watchers (settings on h, the
// network, resume from sleep) triggering checks, until ctx ends.
func RunWatched(ctx context.Context, r *runner.Runner, h host.Host, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	trigger := func(reason string) { r.Trigger(reason) }
	// A live host reads this machine's files, whose directories can be
	// watched; a replayed recording's cannot.
	wg.Go(func() { watch.Settings{Host: h, Logger: log, NotifyFiles: isLive(h)}.Run(ctx, trigger) })
	wg.Go(func() { watch.Network{Logger: log}.Run(ctx, trigger) })
	wg.Go(func() { watch.Resume{}.Run(ctx, trigger) })
	return r.Run(ctx)
}
