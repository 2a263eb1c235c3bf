package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// NewCmdUserMFAReset returns `user mfa-reset`; runF, when set, gets the
// options.
func NewCmdUserMFAReset(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "mfa-reset",
		"Remove every second factor of an account (authenticator app, security keys, recovery codes), for a lost phone or key; audited",
		userMFAResetRun, runF)
}

func userMFAResetRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		err := s.ResetMFA(ctx, osActor(), opts.Username)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %q", opts.Username)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "removed the second factors of %s\n", opts.Username)
		return err
	})
}

// UserMFARequireOptions are the flags and argument of `user mfa-require`.
type UserMFARequireOptions struct {
	DB       StoreOptions
	Required bool
}

// NewCmdUserMFARequire returns `user mfa-require on|off`; runF, when set,
// gets the options.
func NewCmdUserMFARequire(f *Factory, runF func(context.Context, *UserMFARequireOptions) error) *cobra.Command {
	opts := &UserMFARequireOptions{}
	cmd := &cobra.Command{
		Use:   "mfa-require on|off",
		Short: "Require a second factor of every local account (those without one are signed out and set it up at their next sign-in), or stop; audited",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "on":
				opts.Required = true
			case "off":
				opts.Required = false
			default:
				return cmdutil.Usagef("mfa-require takes on or off, not %q", args[0])
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userMFARequireRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	return cmd
}

func userMFARequireRun(ctx context.Context, f *Factory, opts *UserMFARequireOptions) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		if err := s.SetMFARequired(ctx, osActor(), opts.Required); err != nil {
			return err
		}
		// The command line does not read the server's configuration
		// file: require_mfa there still applies to the running server.
		msg := "a second factor is now required of every local account"
		if !opts.Required {
			msg = "a second factor is no longer required"
		}
		_, err := fmt.Fprintln(f.Out, msg)
		return err
	})
}
