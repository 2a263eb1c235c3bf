package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func newUserCmd(f *Factory) *cobra.Command {
	return group("user", "Manage dashboard accounts",
		NewCmdUserAdd(f, nil), NewCmdUserUnlock(f, nil), NewCmdUserResetPassword(f, nil), NewCmdUserList(f, nil),
		NewCmdUserDisable(f, nil), NewCmdUserEnable(f, nil), NewCmdUserDelete(f, nil), NewCmdUserReview(f, nil),
		NewCmdUserMFAReset(f, nil), NewCmdUserMFARequire(f, nil))
}

// withUsers opens the server's account service. Account changes are
// audited like the dashboard's, under the operating-system account that
// ran the command.
func (f *Factory) withUsers(ctx context.Context, db StoreOptions, fn func(*users.Service) error) error {
	return f.withStore(ctx, db, func(st *server) error {
		s, err := users.New(users.Config{Store: st, Audit: st.audit, Now: f.Now})
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// UserAddOptions are the flags and argument of `user add`.
type UserAddOptions struct {
	DB                  StoreOptions
	Username, Role      string
	FirstName, LastName string
	// PasswordStdin reads the initial password from the first line of
	// f.In instead of generating one.
	PasswordStdin bool
}

// NewCmdUserAdd returns `user add`; runF, when set, gets the options.
func NewCmdUserAdd(f *Factory, runF func(context.Context, *UserAddOptions) error) *cobra.Command {
	opts := &UserAddOptions{}
	cmd := &cobra.Command{
		Use:   "add USERNAME --role ROLE --first-name NAME --last-name NAME",
		Short: "Create an account; prints a temporary password to change at first sign-in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Username = args[0]
			if _, err := users.ParseRole(opts.Role); err != nil {
				return cmdutil.UsageError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userAddRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.DB.register(fl)
	fl.StringVar(&opts.Role, "role", "", "viewer, analyst, approver or admin")
	fl.StringVar(&opts.FirstName, "first-name", "", "the user's first name (passwords may not contain it)")
	fl.StringVar(&opts.LastName, "last-name", "", "the user's last name (passwords may not contain it)")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the initial password from the first line of stdin instead of generating one")
	return cmd
}

func userAddRun(ctx context.Context, f *Factory, opts *UserAddOptions) error {
	role, err := users.ParseRole(opts.Role)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	pw := ""
	if opts.PasswordStdin {
		line, err := bufio.NewReader(io.LimitReader(f.In, users.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return cmdutil.Usagef("--password-stdin: the first line of stdin is empty")
		}
	}
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		_, initial, err := s.Create(ctx, users.NewUser{Username: opts.Username, FirstName: opts.FirstName, LastName: opts.LastName, Role: role, Password: pw, By: osActor()})
		switch {
		case errors.Is(err, store.ErrConflict):
			return cmdutil.Usagef("user %q already exists", opts.Username)
		case err != nil:
			var re *users.RuleError
			if errors.As(err, &re) {
				return cmdutil.UsageError{Err: err}
			}
			return err
		}
		if pw == "" {
			fmt.Fprintln(f.Out, initial)
			fmt.Fprintf(f.ErrOut, "created %s (%s); the password above must be changed at first sign-in\n", opts.Username, role)
		} else {
			fmt.Fprintf(f.ErrOut, "created %s (%s); the password must be changed at first sign-in\n", opts.Username, role)
		}
		return nil
	})
}

// UserOptions are the flags and argument of the commands that act on one
// account (unlock, reset-password).
type UserOptions struct {
	DB       StoreOptions
	Username string
}

// newUserCmdOne returns a command acting on one account named by its
// argument; runF, when set, gets the options instead of run.
func newUserCmdOne(f *Factory, use, short string, run func(context.Context, *Factory, *UserOptions) error, runF func(context.Context, *UserOptions) error) *cobra.Command {
	opts := &UserOptions{}
	cmd := &cobra.Command{
		Use:   use + " USERNAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Username = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	return cmd
}

// NewCmdUserUnlock returns `user unlock`; runF, when set, gets the
// options.
func NewCmdUserUnlock(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "unlock", "Unlock an account locked after 5 failed sign-ins", userUnlockRun, runF)
}

func userUnlockRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		if err := s.Unlock(ctx, osActor(), opts.Username); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return cmdutil.Usagef("no user %q", opts.Username)
			}
			return err
		}
		_, err := fmt.Fprintf(f.Out, "unlocked %s\n", opts.Username)
		return err
	})
}

// NewCmdUserResetPassword returns `user reset-password`; runF, when set,
// gets the options.
func NewCmdUserResetPassword(f *Factory, runF func(context.Context, *UserOptions) error) *cobra.Command {
	return newUserCmdOne(f, "reset-password",
		"Give an account a new temporary password (printed alone on stdout) to change at the next sign-in; audited",
		userResetPasswordRun, runF)
}

func userResetPasswordRun(ctx context.Context, f *Factory, opts *UserOptions) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		pw, err := s.ResetPassword(ctx, osActor(), opts.Username)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %q", opts.Username)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.Out, pw)
		return err
	})
}

// UserListOptions are the flags of `user list`.
type UserListOptions struct {
	DB   StoreOptions
	JSON bool
}

// NewCmdUserList returns `user list`; runF, when set, gets the options.
func NewCmdUserList(f *Factory, runF func(context.Context, *UserListOptions) error) *cobra.Command {
	opts := &UserListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return userListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func userListRun(ctx context.Context, f *Factory, opts *UserListOptions) error {
	return f.withUsers(ctx, opts.DB, func(s *users.Service) error {
		us, err := s.List(ctx)
		if err != nil {
			return err
		}
		// A second factor that cannot be read is listed as unknown, never
		// as none, and the command fails after the list.
		var mfaErr error
		mfa := make([]string, len(us))
		mfaStatus := make([]users.MFAStatus, len(us))
		for i, u := range us {
			var err error
			if mfa[i], mfaStatus[i], err = s.MFAState(ctx, u); err != nil && mfaErr == nil {
				mfaErr = err
			}
		}
		if opts.JSON {
			out := make([]userJSON, 0, len(us))
			for i, u := range us {
				j := userJSON{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role,
					State: userState(u), CreatedAt: u.CreatedAt, DisabledReason: u.DisabledReason, OIDCIssuer: u.OIDCIssuer,
					Review: users.ReviewState(u, f.Now()), ReviewBy: users.ReviewBy(u),
					MFA: userMFAJSON{State: mfa[i], TOTP: mfaStatus[i].TOTP, SecurityKeys: mfaStatus[i].SecurityKeys,
						RecoveryCodesLeft: mfaStatus[i].RecoveryCodes}}
				if !u.LastLoginAt.IsZero() {
					t := u.LastLoginAt
					j.LastLoginAt = &t
				}
				out = append(out, j)
			}
			if err := f.printJSON(out); err != nil {
				return err
			}
			return mfaErr
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tNAME\tROLE\tSTATE\tMFA\tLAST SIGN-IN\tREVIEW BY")
		for i, u := range us {
			last := "never"
			if !u.LastLoginAt.IsZero() {
				last = u.LastLoginAt.UTC().Format("2006-01-02 15:04")
			}
			review := users.ReviewBy(u).UTC().Format("2006-01-02")
			if st := users.ReviewState(u, f.Now()); st != users.ReviewCurrent {
				review += " (" + st + ")"
			}
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.FirstName, u.LastName, u.Role, userState(u), mfa[i], last, review)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return mfaErr
	})
}

// userJSON is one account in `user list --json`; never a password hash.
type userJSON struct {
	Username    string     `json:"username"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Role        string     `json:"role"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	// DisabledReason is "admin" or "inactive" for a disabled account.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// OIDCIssuer is the identity provider an OIDC account signs in
	// through (docs/sso.md); absent for a local account.
	OIDCIssuer string `json:"oidc_issuer,omitempty"`
	// Review is "current", "due" or "overdue"; ReviewBy its date.
	Review   string      `json:"review"`
	ReviewBy time.Time   `json:"review_by"`
	MFA      userMFAJSON `json:"mfa"`
}

// userMFAJSON is an account's second factors in `user list --json`.
type userMFAJSON struct {
	// State is "none", "single sign-on" (the provider's affair),
	// "unknown" (not readable; the command fails) or the factors, such as
	// "authenticator app, 1 security key".
	State             string `json:"state"`
	TOTP              bool   `json:"totp"`
	SecurityKeys      int    `json:"security_keys"`
	RecoveryCodesLeft int    `json:"recovery_codes_left"`
}

func userState(u store.User) string {
	switch {
	case u.Disabled() && u.DisabledReason == store.DisabledInactive:
		return "disabled (inactive)"
	case u.Disabled():
		return "disabled"
	case u.Locked():
		return "locked"
	case u.MustChange:
		return "must-change-password"
	}
	return "active"
}
