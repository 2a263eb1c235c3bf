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

	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

type userOptions struct {
	db            storeOptions
	role          string
	first, last   string
	passwordStdin bool
	stdin         io.Reader
}

func newUserCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage dashboard accounts"}
	opts := userOptions{}
	add := &cobra.Command{
		Use:   "add USERNAME --role ROLE --first-name NAME --last-name NAME",
		Short: "Create an account; prints a temporary password to change at first sign-in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.stdin = cmd.InOrStdin()
			return userAdd(cmd.Context(), d, opts, args[0])
		},
	}
	f := add.Flags()
	f.StringVar(&opts.role, "role", "", "viewer, analyst, approver or admin")
	f.StringVar(&opts.first, "first-name", "", "the user's first name (passwords may not contain it)")
	f.StringVar(&opts.last, "last-name", "", "the user's last name (passwords may not contain it)")
	f.BoolVar(&opts.passwordStdin, "password-stdin", false, "read the initial password from the first line of stdin instead of generating one")
	unlock := &cobra.Command{
		Use:   "unlock USERNAME",
		Short: "Unlock an account locked after 5 failed sign-ins",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), d, opts.db, func(s *users.Service) error {
				if err := s.Unlock(cmd.Context(), osActor(), args[0]); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return usageError{fmt.Errorf("no user %q", args[0])}
					}
					return err
				}
				fmt.Fprintf(d.stdout, "unlocked %s\n", args[0])
				return nil
			})
		},
	}
	reset := &cobra.Command{
		Use:   "reset-password USERNAME",
		Short: "Give an account a new temporary password (printed alone on stdout) to change at the next sign-in; audited",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd.Context(), d, opts.db, func(s *users.Service) error {
				pw, err := s.ResetPassword(cmd.Context(), osActor(), args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no user %q", args[0])
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(d.stdout, pw)
				return err
			})
		},
	}
	var listJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withUsers(cmd.Context(), d, opts.db, func(s *users.Service) error {
				us, err := s.List(cmd.Context())
				if err != nil {
					return err
				}
				if listJSON {
					out := make([]userJSON, 0, len(us))
					for _, u := range us {
						j := userJSON{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Role: u.Role,
							State: userState(u), CreatedAt: u.CreatedAt}
						if !u.LastLoginAt.IsZero() {
							t := u.LastLoginAt
							j.LastLoginAt = &t
						}
						out = append(out, j)
					}
					return printJSON(d, out)
				}
				tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USER\tNAME\tROLE\tSTATE\tLAST SIGN-IN")
				for _, u := range us {
					state := userState(u)
					last := "never"
					if !u.LastLoginAt.IsZero() {
						last = u.LastLoginAt.UTC().Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\n", u.Username, u.FirstName, u.LastName, u.Role, state, last)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	for _, c := range []*cobra.Command{add, unlock, reset, list} {
		opts.db.register(c.Flags())
		cmd.AddCommand(c)
	}
	return cmd
}

func withUsers(ctx context.Context, d *deps, db storeOptions, fn func(*users.Service) error) error {
	st, err := openStore(ctx, d, db)
	if err != nil {
		return err
	}
	defer st.Close()
	var acc store.Accounts = st
	// Account changes are audited like the dashboard's, under the
	// operating-system account that ran the command.
	s, err := users.New(users.Config{Store: acc, Audit: auditLog(d, st), Now: d.now})
	if err != nil {
		return err
	}
	return fn(s)
}

func userAdd(ctx context.Context, d *deps, opts userOptions, username string) error {
	role, err := users.ParseRole(opts.role)
	if err != nil {
		return usageError{err}
	}
	pw := ""
	if opts.passwordStdin {
		line, err := bufio.NewReader(io.LimitReader(opts.stdin, users.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return usageError{errors.New("--password-stdin: the first line of stdin is empty")}
		}
	}
	return withUsers(ctx, d, opts.db, func(s *users.Service) error {
		_, initial, err := s.Create(ctx, users.NewUser{Username: username, FirstName: opts.first, LastName: opts.last, Role: role, Password: pw, By: osActor()})
		switch {
		case errors.Is(err, store.ErrConflict):
			return usageError{fmt.Errorf("user %q already exists", username)}
		case err != nil:
			var re *users.RuleError
			if errors.As(err, &re) {
				return usageError{err}
			}
			return err
		}
		if pw == "" {
			fmt.Fprintln(d.stdout, initial)
			fmt.Fprintf(d.stderr, "created %s (%s); the password above must be changed at first sign-in\n", username, role)
		} else {
			fmt.Fprintf(d.stderr, "created %s (%s); the password must be changed at first sign-in\n", username, role)
		}
		return nil
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
}

func userState(u store.User) string {
	switch {
	case u.Locked():
		return "locked"
	case u.MustChange:
		return "must-change-password"
	}
	return "active"
}
