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

// NewCmdUserDisable returns `user disable`; runF, when set, gets the
// options.
func NewCmdUserDisable(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "disable",
		"Disable an account: its sessions end at once and it cannot sign in until enabled; audited (never the last enabled admin)",
		userDisableRun, runF)
}

func userDisableRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return userChange(ctx, f, opts, "disabled", func(s *users.Service) error { return s.Disable(ctx, osActor(), opts.Username) })
}

// NewCmdUserEnable returns `user enable`; runF, when set, gets the
// options.
func NewCmdUserEnable(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "enable",
		"Enable a disabled account (by an administrator or after 90 days unused), clearing its locks; audited",
		userEnableRun, runF)
}

func userEnableRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return userChange(ctx, f, opts, "enabled", func(s *users.Service) error { return s.Enable(ctx, osActor(), opts.Username) })
}

// NewCmdUserDelete returns `user delete`; runF, when set, gets the
// options.
func NewCmdUserDelete(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "delete",
		"Delete an account with its sessions and password history (its audit rows stay); audited (never the last enabled admin)",
		userDeleteRun, runF)
}

func userDeleteRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return userChange(ctx, f, opts, "deleted", func(s *users.Service) error { return s.Delete(ctx, osActor(), opts.Username) })
}

// UserReviewOptions are the flags and argument of `user review`.
type UserReviewOptions struct {
	DB       StoreOptions
	Username string
	Note     string
}

// NewCmdUserReview returns `user review`; runF, when set, gets the
// options.
func NewCmdUserReview(f *Factory, runF func(context.Context, *UserReviewOptions) error) *cobra.Command {
	opts := &UserReviewOptions{}
	cmd := &cobra.Command{
		Use:   "review USERNAME [--note TEXT]",
		Short: "Record the account's yearly review (Policy 550.04: still justified, least role); audited",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Username = args[0]
			if len(opts.Note) > 500 {
				return cmdutil.Usagef("--note: at most 500 characters")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userReviewRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Note, "note", "", "what the review found, for the audit log")
	return cmd
}

func userReviewRun(ctx context.Context, f *Factory, opts *UserReviewOptions) error {
	return userChange(ctx, f, &UserOptions{DB: opts.DB, Username: opts.Username}, "reviewed", func(s *users.Service) error {
		return s.Review(ctx, osActor(), opts.Username, opts.Note)
	})
}

// userChange runs one account change and says what was done; a missing
// account or the last administrator is the command's failure (exit 1).
func userChange(ctx context.Context, f *Factory, opts *UserOptions, done string, change func(*users.Service) error) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		err := change(s)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("no user %q", opts.Username)
		case errors.Is(err, users.ErrLastAdmin):
			return fmt.Errorf("%s is the last enabled administrator: make another account admin first", opts.Username)
		case err != nil:
			return err
		}
		_, err = fmt.Fprintf(f.Out, "%s %s\n", done, opts.Username)
		return err
	})
}
