package cli

import (
	"context"
	"fmt"
	"github.com/postern-dev/postern/server/audit"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/serve"
	"github.com/spf13/cobra"
)

// deps are what every command writes to and reads the time from.
type deps struct {
	stdout, stderr io.Writer
	now            func() time.Time
	version        string
	// getenv reads the environment (os.Getenv).
	getenv func(string) string
	// auditKeys is the data directory's audit key, loaded with the store
	// (auditkey.go).
	auditKeys *audit.Keyring
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
	d := &deps{stdout: stdout, stderr: stderr, now: now, version: version, getenv: os.Getenv}
	root := newRoot(d)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if msg := cmdutil.Message(err); msg != "" {
		fmt.Fprintln(stderr, "postern-server:", msg)
	}
	return cmdutil.ExitCode(err)
}

// usageError marks an error in the command line (exit 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// IsUsage tells cmdutil.ExitCode that this is a usage error.
func (usageError) IsUsage() bool { return true }

func newRoot(d *deps) *cobra.Command {
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
	root.AddCommand(newServeCmd(d), newInitCmd(d), newTokenCmd(d), newSecretCmd(d), newAPIKeyCmd(d), newVersionCmd(d))
	root.AddCommand(newUserCmd(d))
	addAPIKeyCommands(d, root)
	root.AddCommand(newExceptionCmd(d), newDeviceCmd(d), newAttestationCmd(d), newPolicyCmd(d), newAuditCmd(d))
	cmdutil.Setup(root, d.version)
	return root
}

func newVersionCmd(d *deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the server's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(d.stdout, "postern-server", d.version)
			return nil
		},
	}
}

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
