package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/browsercert"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// browserManager returns the placement of the device certificate for the
// browsers of this machine's console user, or nil on an OS without one.
// A variable so that tests keep their hands off the machine's stores.
var browserManager = func(h host.Host, stateDir string) *browsercert.Manager {
	return browsercert.Default(runtime.GOOS, stateDir, allowcmd.Exec{GOOS: runtime.GOOS},
		func(ctx context.Context) (consoleuser.User, error) { return consoleuser.Find(ctx, h) })
}

// browsersFor returns browserManager for the state directory stateDir
// names (the default location when empty).
func browsersFor(h host.Host, stateDir string) (*browsercert.Manager, *state.Dir, error) {
	dir, err := state.Open(stateDir)
	if err != nil {
		return nil, nil, err
	}
	return browserManager(h, dir.Path()), dir, nil
}

// syncBrowsers places the identity in stateDir for the console user's
// browsers. Its error is for the caller to report, never to fail on: the
// device is enrolled either way, and the service places the certificate
// again when it starts and after every renewal. Nobody at the console
// matches consoleuser.ErrNoConsoleUser. ks is the open key store of a
// hardware key (the service's); when nil, the store tpm (a --tpm value)
// names is opened for the placement.
func syncBrowsers(ctx context.Context, h host.Host, stateDir string, ks devkey.Store, tpm string) error {
	m, dir, err := browsersFor(h, stateDir)
	if err != nil || m == nil {
		return err
	}
	if ks == nil {
		opened, err := storeForKey(dir.Path(), tpm)
		if err != nil {
			return err
		}
		if opened != nil {
			defer opened.Close()
			ks = opened
		}
	}
	if ks != nil {
		dir.UseKeyStore(ks)
	}
	id, err := browsercert.FromState(dir)
	if err != nil {
		return err
	}
	return m.Sync(ctx, id)
}

// serveDeviceKey starts, on Linux with a hardware key, the key socket
// through which the PKCS#11 module in the browsers of the users the
// certificate was placed for uses the key in the TPM. It returns what
// stops it.
func serveDeviceKey(ctx context.Context, h host.Host, stateDir string, ks devkey.Store, log *slog.Logger) func() {
	if runtime.GOOS != "linux" || ks == nil {
		return func() {}
	}
	m, dir, err := browsersFor(h, stateDir)
	if err != nil || m == nil {
		return func() {}
	}
	dir.UseKeyStore(ks)
	id, err := browsercert.FromState(dir)
	if err != nil {
		log.Warn("device key not served to the browsers", "error", err.Error())
		return func() {}
	}
	s := &browsercert.KeyServer{Path: browsercert.KeySocket, Key: id.Key, Allow: m.Placed, Logger: log,
		Cert: func() (*x509.Certificate, error) {
			id, err := browsercert.FromState(dir)
			return id.Cert, err
		}}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(ctx); err != nil {
			log.Warn("device key not served to the browsers", "error", err.Error())
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// logBrowserSync logs syncBrowsers' outcome.
func logBrowserSync(log *slog.Logger, err error) {
	switch {
	case errors.Is(err, consoleuser.ErrNoConsoleUser):
		log.Info("device certificate not placed for browsers: nobody is signed in at the console")
	case err != nil:
		log.Warn("device certificate not placed for browsers", "error", err.Error())
	default:
		log.Info("device certificate placed for the console user's browsers")
	}
}

// clearBrowsers takes the device certificate out of every store it was
// placed in, and the browsers' policies.
func clearBrowsers(ctx context.Context, h host.Host, stateDir string) error {
	m, dir, err := browsersFor(h, stateDir)
	if err != nil || m == nil {
		return err
	}
	id, err := dir.LoadIdentity()
	if errors.Is(err, state.ErrNotEnrolled) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.Clear(ctx, id.DeviceID); err != nil {
		return fmt.Errorf("remove the device certificate from the browsers: %w", err)
	}
	return nil
}

// BrowserCertOptions are the flags of `browser-cert place|remove`.
type BrowserCertOptions struct {
	StateDir string
	// Remove takes the certificate out instead of placing it.
	Remove bool
}

// NewCmdBrowserCert returns `browser-cert` with its `place` and `remove`
// subcommands: what the service does by itself after enrollment, at start
// and after renewals, and on uninstall or refusal, for an administrator
// (after another person signs in) and for the packages' removal scripts.
func NewCmdBrowserCert(f *Factory, runF func(context.Context, *BrowserCertOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "browser-cert",
		Short: "Place or remove the device certificate for the console user's browsers",
		Args:  cobra.NoArgs,
	}
	for _, remove := range []bool{false, true} {
		opts := &BrowserCertOptions{Remove: remove}
		use, short := "place", "Put the device certificate in the console user's store and write the browsers' policies"
		if remove {
			use, short = "remove", "Take the device certificate out of every user's store it was placed in, and the browsers' policies"
		}
		sub := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return browserCertRun(cmd.Context(), f, opts)
			},
		}
		addStateFlag(sub, &opts.StateDir)
		cmd.AddCommand(sub)
	}
	return cmd
}

func browserCertRun(ctx context.Context, f *Factory, opts *BrowserCertOptions) error {
	if opts.Remove {
		if err := clearBrowsers(ctx, f.LiveHost(), opts.StateDir); err != nil {
			return err
		}
		fmt.Fprintln(f.Out, "device certificate removed from the browsers' stores")
		return nil
	}
	if err := syncBrowsers(ctx, f.LiveHost(), opts.StateDir, nil, ""); err != nil {
		return err
	}
	fmt.Fprintln(f.Out, "device certificate placed for the console user's browsers")
	return nil
}
