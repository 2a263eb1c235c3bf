package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/version"
)

// checkTimeout bounds one local check.
const checkTimeout = 2 * time.Minute

// CheckOptions are the flags of `check`.
type CheckOptions struct {
	StateDir   string
	JSON       bool
	PolicyFile string
	Replay     string
	Record     string
}

// NewCmdCheck returns `check`. runF replaces the command's action in tests.
func NewCmdCheck(f *Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check this device now and print each control with how to fix it",
		Long: `Check this device now, without contacting the server.

Exit status: 0 compliant, 1 not compliant, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Replay != "" && opts.Record != "" {
				return cmdutil.Usagef("--replay and --record cannot be used together")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			err := checkRun(cmd.Context(), f, opts)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				// Could not check: 2, never the 1 of "not compliant".
				return &exitError{code: ExitError, err: err}
			}
			return err
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&opts.PolicyFile, "policy", "", "policy `FILE` (default: the policy the server last pushed, else the built-in one)")
	cmd.Flags().StringVar(&opts.Replay, "replay", "", "check a recorded `SNAPSHOT` (directory or .tar.gz) instead of this machine")
	cmd.Flags().StringVar(&opts.Record, "record", "", "also record every answer of this machine to `SNAPSHOT` (a directory, or .tar.gz)")
	return cmd
}

func checkRun(ctx context.Context, f *Factory, opts *CheckOptions) error {
	p, err := checkPolicy(opts)
	if err != nil {
		return err
	}
	h, now, err := openHost(f, opts.Replay)
	if err != nil {
		return err
	}
	var rec *host.Recorder
	if opts.Record != "" {
		rec = host.NewRecorder(h)
		h = rec
	}
	if f.Device == nil {
		return errors.New("this build has no device collector")
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	dev := f.Device(ctx, h)
	report := checks.Collect(ctx, h, dev, now)
	res := output.NewCheckResult(report, checks.Evaluate(report, p, now))
	if rec != nil {
		rec.SetInfo(dev.Hostname, version.Version)
		if err := rec.Save(opts.Record); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
	}
	if opts.JSON {
		err = res.WriteJSON(f.Out)
	} else {
		err = res.WriteText(f.Out, f.Color())
	}
	if err != nil {
		return err
	}
	if !res.Compliant {
		return &exitError{code: ExitNotCompliant}
	}
	return nil
}

// openHost returns the live host at the current time, or a replayed
// snapshot at the time it was recorded, so that a replay gives the same
// verdicts whenever it is run.
func openHost(f *Factory, replay string) (host.Host, time.Time, error) {
	if replay == "" {
		return f.LiveHost(), f.Now(), nil
	}
	r, err := host.OpenSnapshot(replay)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := r.Meta().RecordedAt
	if now.IsZero() {
		now = f.Now()
	}
	return r, now, nil
}

// checkPolicy is --policy, else the policy the server pushed if the state
// directory is readable, else the built-in default.
func checkPolicy(opts *CheckOptions) (*checks.Policy, error) {
	path := opts.PolicyFile
	if path == "" {
		path = filepath.Join(opts.StateDir, state.PolicyFile)
	}
	b, err := readBounded(path, checks.MaxPolicySize)
	if err != nil {
		if opts.PolicyFile == "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
			return checks.DefaultPolicy(), nil
		}
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := checks.ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
