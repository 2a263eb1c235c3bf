package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/installer/service"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	pb "github.com/postern-dev/postern/proto"
)

// ServiceManager installs and controls the agent's system service;
// *service.Manager implements it, and tests fake it.
type ServiceManager interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Status() (service.State, error)
}

func newServiceManager(s service.Spec) (ServiceManager, error) { return service.New(s) }

// ServiceOptions are the flags of install, uninstall, start and stop.
type ServiceOptions struct {
	StateDir string
	// Server and Token, given to install, enroll a device that has no
	// identity yet; an existing identity is always kept.
	Server, Token string
	// Purge, for uninstall, also deletes the state directory.
	Purge bool
}

// NewCmdService returns one of the service commands: install, uninstall,
// start or stop.
func NewCmdService(f *Factory, action string, runF func(context.Context, *ServiceOptions) error) *cobra.Command {
	opts := &ServiceOptions{}
	short := map[string]string{
		"install":   "Install and start the agent as a system service (an upgrade keeps this device's identity)",
		"uninstall": "Stop and remove the agent's system service (--purge also deletes its state and identity)",
		"start":     "Start the agent's system service",
		"stop":      "Stop the agent's system service",
	}[action]
	cmd := &cobra.Command{
		Use:   action,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (opts.Server == "") != (opts.Token == "") {
				return cmdutil.Usagef("--server and --token go together")
			}
			if opts.Server != "" {
				if err := validateServer(opts.Server); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serviceRun(cmd.Context(), f, action, opts)
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	switch action {
	case "install":
		cmd.Flags().StringVar(&opts.Server, "server", "", "enroll first with the server at `HOST:PORT`, unless already enrolled")
		cmd.Flags().StringVar(&opts.Token, "token", "", "one-time enrollment `TOKEN` or reusable enrollment secret for --server; the service enrolls with it")
		cmd.Flags().StringVar(&opts.Token, "secret", "", "reusable enrollment `SECRET` (same as --token)")
		cmd.MarkFlagsMutuallyExclusive("token", "secret")
	case "uninstall":
		cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the state directory: the device identity, spool and logs")
	}
	return cmd
}

func serviceRun(ctx context.Context, f *Factory, action string, opts *ServiceOptions) error {
	spec, err := serviceSpec(opts.StateDir)
	if err != nil {
		return err
	}
	err = serviceAction(ctx, f, action, opts, spec)
	if !(action == "uninstall" && opts.Purge) { // nothing left to log into
		recordServiceAction(f, spec.StateDir, runtime.GOOS, action, err)
	}
	return err
}

// recordServiceAction appends the outcome of install, uninstall, start or
// stop to the service's log file on Windows and macOS: an installer runs
// them (msiexec's custom actions, install.sh) and keeps none of their
// output (msiexec logs only an exit code), so the log is where an
// administrator, or wine-test, reads why an install or upgrade failed. On
// Linux the command's own stderr is the package manager's output.
func recordServiceAction(f *Factory, stateDir, goos, action string, err error) {
	if goos == "linux" {
		return
	}
	log, closeLog, lerr := serviceLogger(f, stateDir, goos)
	if lerr != nil {
		return
	}
	defer closeLog()
	if err != nil {
		log.Error("service "+action+" failed", "error", err.Error())
		return
	}
	log.Info("service " + action + " done")
}

func serviceAction(ctx context.Context, f *Factory, action string, opts *ServiceOptions, spec service.Spec) error {
	m, err := f.Service(spec)
	if err != nil {
		return err
	}
	switch action {
	case "install":
		if err := enrollForInstall(ctx, f, opts); err != nil {
			return err
		}
		if err := m.Install(); err != nil {
			return err
		}
		fmt.Fprintf(f.Out, "service %s installed and started (state in %s)\n", service.Name, spec.StateDir)
	case "uninstall":
		if err := clearBrowsers(ctx, f.LiveHost(), spec.StateDir); err != nil {
			fmt.Fprintf(f.ErrOut, "warning: %v\n", err)
		}
		if err := m.Uninstall(); err != nil {
			return err
		}
		fmt.Fprintf(f.Out, "service %s removed\n", service.Name)
		if opts.Purge {
			if err := os.RemoveAll(spec.StateDir); err != nil {
				return fmt.Errorf("purge state: %w", err)
			}
			fmt.Fprintf(f.Out, "state directory %s deleted\n", spec.StateDir)
		}
	case "start":
		if err := m.Start(); err != nil {
			return err
		}
		fmt.Fprintf(f.Out, "service %s started\n", service.Name)
	case "stop":
		if err := m.Stop(); err != nil {
			return err
		}
		fmt.Fprintf(f.Out, "service %s stopped\n", service.Name)
	}
	return nil
}

// enrollForInstall leaves the enrollment to the service when asked to and
// no identity exists; an existing identity survives reinstalls and
// upgrades. It never contacts the server: an installer must succeed on a
// laptop that is offline, and a refused secret is reported by the
// service, not by a failed install.
func enrollForInstall(_ context.Context, f *Factory, opts *ServiceOptions) error {
	if opts.Server == "" {
		return nil
	}
	if _, err := pb.ParseEnrollToken(opts.Token); err != nil {
		// Still installed: an MDM pushing a mistyped secret gets a
		// running service that reports it (status, log), not a failed
		// install it cannot see into.
		fmt.Fprintf(f.ErrOut, "warning: --token: %v; the service will report it until a valid one is installed\n", err)
	}
	dir, err := state.Open(opts.StateDir)
	if err != nil {
		return err
	}
	if err := dir.CanEnroll(false); errors.Is(err, state.ErrAlreadyEnrolled) {
		fmt.Fprintln(f.Out, "already enrolled: keeping this device's identity")
		return dir.DropPendingEnrollment()
	} else if err != nil {
		return err
	}
	now := clock.Now
	if f.Now != nil {
		now = f.Now
	}
	if err := dir.SetPendingEnrollment(state.PendingEnrollment{Server: opts.Server, Secret: opts.Token, SavedAt: now().UTC()}); err != nil {
		return err
	}
	fmt.Fprintf(f.Out, "the service will enroll this device with %s (see `postern-agent status`)\n", opts.Server)
	return nil
}

// serviceSpec is this executable, with symlinks resolved so that the
// service survives a package manager's link changes, and the state
// directory as an absolute path.
func serviceSpec(stateDir string) (service.Spec, error) {
	exe, err := os.Executable()
	if err != nil {
		return service.Spec{}, fmt.Errorf("locate executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return service.Spec{}, fmt.Errorf("state dir: %w", err)
	}
	spec := service.Spec{Executable: exe, StateDir: abs}
	return spec, spec.Validate()
}

// serviceState is the service's state for `status`; querying must not
// fail the command.
func serviceState(f *Factory, stateDir string) string {
	if f.Service == nil {
		return ""
	}
	spec, err := serviceSpec(stateDir)
	if err != nil {
		return string(service.StateUnknown)
	}
	m, err := f.Service(spec)
	if err != nil {
		return string(service.StateUnknown)
	}
	st, _ := m.Status()
	return string(st)
}
