package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/installer/service"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/version"
)

// Exit codes of postern-agent (cmdutil's, shared with postern-server):
// 0 done; 1 the thing asked failed, or the answer is "no" (check: not
// compliant); 2 usage error, and for check an error that prevented the
// check, so that a script never takes "could not check" for "not
// compliant".
const (
	ExitOK           = cmdutil.ExitOK
	ExitFailure      = cmdutil.ExitFailure
	ExitNotCompliant = cmdutil.ExitFailure
	ExitUsage        = cmdutil.ExitUsage
	ExitError        = 2
)

// ExitError carries an exit code other than ExitError to Main; its Err,
// if any, is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Factory holds what commands need from the outside world, so that tests
// can replace it.
type Factory struct {
	Out, ErrOut io.Writer
	// Color reports whether Out is a terminal that should get colours.
	Color func() bool
	// Now is the clock.
	Now func() time.Time
	// LiveHost returns the machine the agent runs on.
	LiveHost func() host.Host
	// Device describes a host (device.Collect).
	Device func(ctx context.Context, h host.Host) checks.Device
	// Service returns the manager of the agent's system service; nil
	// leaves the service out of `status`.
	Service func(service.Spec) (ServiceManager, error)
}

// DefaultFactory wires the real streams, host and device collector.
func DefaultFactory(stdout, stderr io.Writer) *Factory {
	return &Factory{
		Out: stdout, ErrOut: stderr,
		Color:    func() bool { return isTerminal(stdout) && os.Getenv("NO_COLOR") == "" },
		Now:      clock.Now,
		LiveHost: liveHost,
		Device:   collectDevice,
		Service:  newServiceManager,
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// textLogger logs human-readable warnings to stderr for interactive
// commands.
func (f *Factory) textLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(f.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// jsonLogger is for `run`, whose stderr goes to a service log.
func (f *Factory) jsonLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(f.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// NewRootCmd returns the postern-agent command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "postern-agent",
		Short: "Check this device against Policy 550.04 and report its posture to the Postern server",
		Long: `Check this device against Policy 550.04 and report its posture to the Postern server.

Exit codes: 0 done (check: compliant); 1 the thing asked failed or the answer
is no (check: not compliant); 2 usage error, or check could not check.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		NewCmdCheck(f, nil),
		NewCmdEnroll(f, nil),
		NewCmdAttest(f, nil),
		NewCmdRun(f, nil),
		NewCmdStatus(f, nil),
		NewCmdVersion(f),
		NewCmdService(f, "install", nil),
		NewCmdService(f, "uninstall", nil),
		NewCmdService(f, "start", nil),
		NewCmdService(f, "stop", nil),
		NewCmdBundle(f, nil),
		NewCmdPrivacy(f),
		NewCmdBrowserCert(f, nil),
	)
	cmdutil.Setup(root, version.Version)
	return root
}

func addStateFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "state", state.DefaultDir(), "agent state directory")
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetOut(f.Out)
	root.SetErr(f.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(f.ErrOut, "postern-agent: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(f.ErrOut, "postern-agent: %v\n", err)
	return cmdutil.ExitCode(err)
}
