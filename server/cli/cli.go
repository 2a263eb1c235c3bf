package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/serve"
)

// Factory holds what commands take from the outside world (streams, clock,
// environment, version), so that tests can call a command's run function
// with their own. The store comes from a command's StoreOptions through
// f.withStore.
type Factory struct {
	Out, ErrOut io.Writer
	In          io.Reader
	// Now is the clock every command judges time by.
	Now func() time.Time
	// Getenv reads the environment (os.Getenv).
	Getenv  func(string) string
	Version string
}

// NewFactory wires the process's streams, environment and clock.
func NewFactory(stdout, stderr io.Writer, version string, now func() time.Time) *Factory {
	return &Factory{Out: stdout, ErrOut: stderr, In: os.Stdin, Now: now, Getenv: os.Getenv, Version: version}
}

// Main runs postern-server with args and returns the process exit code:
// 0 on success, 1 on error, 2 on a usage error. SIGINT and SIGTERM stop
// serve cleanly.
func Main(args []string, stdout, stderr io.Writer, version string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, stdout, stderr, version)
}

// Run is Main with a caller-supplied context, for tests.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, version string) int {
	return RunAt(ctx, args, stdout, stderr, version, clock.Now)
}

// RunAt is Run with the clock the commands judge time by, for tests that
// pin "now" for a server and its command line alike.
func RunAt(ctx context.Context, args []string, stdout, stderr io.Writer, version string, now func() time.Time) int {
	return Execute(ctx, NewFactory(stdout, stderr, version, now), args)
}

// Execute runs the command tree with f and maps the error to an exit code
// (the only place that does).
func Execute(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetOut(f.Out)
	root.SetErr(f.ErrOut)
	root.SetIn(f.In)
	err := root.ExecuteContext(ctx)
	if msg := cmdutil.Message(err); msg != "" {
		fmt.Fprintln(f.ErrOut, "postern-server:", msg)
	}
	return cmdutil.ExitCode(err)
}

// NewRootCmd returns the postern-server command tree. Every leaf is made
// by a NewCmdX(f, runF) that parses its flags into XOptions and calls
// xRun(ctx, f, opts), or runF when a test gives one.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "postern-server",
		Short: "Postern device-posture server: ingest, enrollment and decision API",
		Long: `Postern device-posture server: ingest, enrollment and decision API.

Every command works on one data directory (--data, default ` + serve.DefaultDataDir() + `),
created only by "serve --init" or "init".

Exit codes: 0 done; 1 the thing asked failed; 2 usage error (unknown command
or flag, missing or extra argument, bad value).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		NewCmdServe(f, nil),
		NewCmdInit(f, nil),
		newTokenCmd(f),
		newSecretCmd(f),
		newAPIKeyCmd(f),
		newUserCmd(f),
		newExceptionCmd(f),
		newDeviceCmd(f),
		newAttestationCmd(f),
		newPolicyCmd(f),
		newAuditCmd(f),
		NewCmdVersion(f),
	)
	cmdutil.Setup(root, f.Version)
	return root
}

// group returns a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subs...)
	return cmd
}

// NewCmdVersion returns `version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the server's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(f.Out, "postern-server", f.Version)
			return err
		},
	}
}

// printJSON writes v for people and jq: indented, with <, > and & kept.
func (f *Factory) printJSON(v any) error { return cmdutil.WriteJSON(f.Out, v) }

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
