package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/postern-dev/postern/gateway/manage"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func newExceptionCmd(f *Factory) *cobra.Command {
	return group("exception", "Grant, list and end exceptions that waive a control",
		NewCmdExceptionGrant(f, nil), NewCmdExceptionList(f, nil), NewCmdExceptionEnd(f, nil))
}

// ExceptionGrantOptions are the flags of `exception grant`.
type ExceptionGrantOptions struct {
	DB                                     StoreOptions
	Device, Org, Control, Reason, Approver string
	Starts, Expires                        string
	For                                    time.Duration
}

// NewCmdExceptionGrant returns `exception grant`; runF, when set, gets
// the options.
func NewCmdExceptionGrant(f *Factory, runF func(context.Context, *ExceptionGrantOptions) error) *cobra.Command {
	opts := &ExceptionGrantOptions{}
	cmd := &cobra.Command{
		Use:   "grant (--device ID | --org ORG) --control ID --reason TEXT --approver NAME (--expires TIME | --for DURATION)",
		Short: "Waive one control for a device or an organization for at most 365 days; prints the exception ID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := opts.grant(f.Now()); err != nil {
				return cmdutil.UsageError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return exceptionGrantRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.DB.register(fl)
	fl.StringVar(&opts.Device, "device", "", "device ID the exception applies to")
	fl.StringVar(&opts.Org, "org", "", "organization the exception applies to (every device enrolled with it)")
	fl.StringVar(&opts.Control, "control", "", "control ID, e.g. os_patched")
	fl.StringVar(&opts.Reason, "reason", "", "why the control is waived (required)")
	fl.StringVar(&opts.Approver, "approver", "", "the dashboard account (role approver) that approved it (default: the OS user running the command, recorded as os:NAME)")
	fl.StringVar(&opts.Starts, "starts", "", "start, RFC 3339 (default: now)")
	fl.StringVar(&opts.Expires, "expires", "", "expiry, RFC 3339 or YYYY-MM-DD (UTC midnight)")
	fl.Var(duration.NewValue(&opts.For, 0), "for", "duration instead of --expires, e.g. 30d or 12h")
	for _, n := range []string{"control", "reason"} {
		cmd.MarkFlagRequired(n)
	}
	return cmd
}

func exceptionGrantRun(ctx context.Context, f *Factory, opts *ExceptionGrantOptions) error {
	req, err := opts.grant(f.Now())
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	return f.withStore(ctx, opts.DB, func(st *server) error {
		approver, err := grantApprover(ctx, st, opts.Approver)
		if err != nil {
			return err
		}
		req.Approver = approver
		e, err := exceptions.NewService(st, st.audit, f.Now).Grant(ctx, req)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.Out, e.ID)
		return err
	})
}

// ExceptionListOptions are the flags of `exception list`.
type ExceptionListOptions struct {
	DB   StoreOptions
	All  bool
	JSON bool
}

// NewCmdExceptionList returns `exception list`; runF, when set, gets the
// options.
func NewCmdExceptionList(f *Factory, runF func(context.Context, *ExceptionListOptions) error) *cobra.Command {
	opts := &ExceptionListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--all] [--json]",
		Short: "List exceptions that have not expired",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return exceptionListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.All, "all", false, "include exceptions ended early")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func exceptionListRun(ctx context.Context, f *Factory, opts *ExceptionListOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		es, err := exceptions.NewService(st, nil, f.Now).List(ctx, opts.All)
		if err != nil {
			return err
		}
		if opts.JSON {
			return f.printJSON(exceptionsJSON(es))
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tSUBJECT\tCONTROL\tSTARTS\tEXPIRES\tAPPROVER\tREASON")
		for _, e := range es {
			exp := e.ExpiresAt.Format(time.RFC3339)
			if !e.EndedAt.IsZero() {
				exp = "ended " + e.EndedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Scope, e.Subject, e.Control,
				e.StartsAt.Format(time.RFC3339), exp, e.Approver, e.Reason)
		}
		return tw.Flush()
	})
}

// ExceptionEndOptions are the flags and argument of `exception end`.
type ExceptionEndOptions struct {
	DB         StoreOptions
	ID         string
	By, Reason string
}

// NewCmdExceptionEnd returns `exception end`; runF, when set, gets the
// options.
func NewCmdExceptionEnd(f *Factory, runF func(context.Context, *ExceptionEndOptions) error) *cobra.Command {
	opts := &ExceptionEndOptions{}
	cmd := &cobra.Command{
		Use:   "end ID --by NAME",
		Short: "End an exception now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return exceptionEndRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.By, "by", "", "who ends the exception (required)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why it ends early")
	cmd.MarkFlagRequired("by")
	return cmd
}

func exceptionEndRun(ctx context.Context, f *Factory, opts *ExceptionEndOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		if err := exceptions.NewService(st, st.audit, f.Now).End(ctx, opts.ID, opts.By, opts.Reason); err != nil {
			return err
		}
		_, err := fmt.Fprintf(f.Out, "ended %s\n", opts.ID)
		return err
	})
}

func (g *ExceptionGrantOptions) grant(now time.Time) (exceptions.Grant, error) {
	req := exceptions.Grant{Control: checks.ControlID(g.Control), Reason: g.Reason, Approver: g.Approver}
	switch {
	case g.Device != "" && g.Org == "":
		req.Scope, req.Subject = store.ScopeDevice, g.Device
	case g.Org != "" && g.Device == "":
		req.Scope, req.Subject = store.ScopeOrg, g.Org
	default:
		return req, fmt.Errorf("give exactly one of --device and --org")
	}
	if g.Starts != "" {
		t, err := time.Parse(time.RFC3339, g.Starts)
		if err != nil {
			return req, fmt.Errorf("--starts: %w", err)
		}
		req.StartsAt = t
	}
	switch {
	case g.Expires != "" && g.For != 0:
		return req, fmt.Errorf("give --expires or --for, not both")
	case g.Expires != "":
		t, err := parseTime(g.Expires)
		if err != nil {
			return req, fmt.Errorf("--expires: %w", err)
		}
		req.ExpiresAt = t
	case g.For > 0:
		start := req.StartsAt
		if start.IsZero() {
			start = now
		}
		req.ExpiresAt = start.Add(g.For)
	default:
		return req, fmt.Errorf("give --expires or --for")
	}
	return req, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// exceptionsJSON is the form of `exception list --json`: the management
// API's, so that scripts read one shape from either.
func exceptionsJSON(es []store.Exception) []manage.Exception {
	out := make([]manage.Exception, 0, len(es))
	for _, e := range es {
		out = append(out, manage.Exception{ID: e.ID, Scope: e.Scope, Subject: e.Subject, Control: e.Control, Reason: e.Reason,
			Approver: e.Approver, StartsAt: e.StartsAt, ExpiresAt: e.ExpiresAt, CreatedAt: e.CreatedAt, EndedAt: e.EndedAt, EndedBy: e.EndedBy})
	}
	return out
}

// grantApprover is who approved an exception: a dashboard account allowed
// to grant exceptions (role approver) that is not locked, so that the
// audit log never names someone who does not exist; without --approver,
// the OS user running the command.
func grantApprover(ctx context.Context, st store.Accounts, name string) (string, error) {
	if name == "" {
		return osActor(), nil
	}
	u, err := st.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("--approver %q: no such dashboard account (create one with user add --role approver, or leave --approver out to record the OS user)", name)
	}
	if err != nil {
		return "", err
	}
	if !users.Role(u.Role).Can(users.PermException) {
		return "", fmt.Errorf("--approver %q: the account's role %s may not approve exceptions (role approver may)", name, u.Role)
	}
	if !u.LockedAt.IsZero() {
		return "", fmt.Errorf("--approver %q: the account is locked", name)
	}
	return name, nil
}
