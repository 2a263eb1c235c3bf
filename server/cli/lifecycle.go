package cli

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// printJSON writes v for people and jq: indented, with <, > and & kept.
func printJSON(d *deps, v any) error { return cmdutil.WriteJSON(d.stdout, v) }

type grantOptions struct {
	device, org, control, reason, approver string
	starts, expires                        string
	duration                               time.Duration
}

func newExceptionCmd(d *deps) *cobra.Command {
	var db storeOptions
	cmd := &cobra.Command{Use: "exception", Short: "Grant, list and end exceptions that waive a control"}
	dataFlag(cmd, &db)
	var g grantOptions
	grant := &cobra.Command{
		Use:   "grant (--device ID | --org ORG) --control ID --reason TEXT --approver NAME (--expires TIME | --for DURATION)",
		Short: "Waive one control for a device or an organization for at most 365 days; prints the exception ID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := g.grant(d.now())
			if err != nil {
				return usageError{err}
			}
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				approver, err := grantApprover(cmd.Context(), st, g.approver)
				if err != nil {
					return err
				}
				req.Approver = approver
				e, err := exceptions.NewService(st, auditLog(d, st), d.now).Grant(cmd.Context(), req)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(d.stdout, e.ID)
				return err
			})
		},
	}
	f := grant.Flags()
	f.StringVar(&g.device, "device", "", "device ID the exception applies to")
	f.StringVar(&g.org, "org", "", "organization the exception applies to (every device enrolled with it)")
	f.StringVar(&g.control, "control", "", "control ID, e.g. os_patched")
	f.StringVar(&g.reason, "reason", "", "why the control is waived (required)")
	f.StringVar(&g.approver, "approver", "", "the dashboard account (role approver) that approved it (default: the OS user running the command, recorded as os:NAME)")
	f.StringVar(&g.starts, "starts", "", "start, RFC 3339 (default: now)")
	f.StringVar(&g.expires, "expires", "", "expiry, RFC 3339 or YYYY-MM-DD (UTC midnight)")
	f.Var(duration.NewValue(&g.duration, 0), "for", "duration instead of --expires, e.g. 30d or 12h")
	for _, n := range []string{"control", "reason"} {
		grant.MarkFlagRequired(n)
	}

	var all, asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List exceptions that have not expired",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				es, err := exceptions.NewService(st, nil, d.now).List(cmd.Context(), all)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(d, exceptionsJSON(es))
				}
				tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
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
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include exceptions ended early")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var by, why string
	end := &cobra.Command{
		Use:   "end ID --by NAME",
		Short: "End an exception now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				err := exceptions.NewService(st, auditLog(d, st), d.now).End(cmd.Context(), args[0], by, why)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(d.stdout, "ended %s\n", args[0])
				return err
			})
		},
	}
	end.Flags().StringVar(&by, "by", "", "who ends the exception (required)")
	end.Flags().StringVar(&why, "reason", "", "why it ends early")
	end.MarkFlagRequired("by")
	cmd.AddCommand(grant, list, end)
	return cmd
}

func (g grantOptions) grant(now time.Time) (exceptions.Grant, error) {
	req := exceptions.Grant{Control: checks.ControlID(g.control), Reason: g.reason, Approver: g.approver}
	switch {
	case g.device != "" && g.org == "":
		req.Scope, req.Subject = store.ScopeDevice, g.device
	case g.org != "" && g.device == "":
		req.Scope, req.Subject = store.ScopeOrg, g.org
	default:
		return req, fmt.Errorf("give exactly one of --device and --org")
	}
	if g.starts != "" {
		t, err := time.Parse(time.RFC3339, g.starts)
		if err != nil {
			return req, fmt.Errorf("--starts: %w", err)
		}
		req.StartsAt = t
	}
	switch {
	case g.expires != "" && g.duration != 0:
		return req, fmt.Errorf("give --expires or --for, not both")
	case g.expires != "":
		t, err := parseTime(g.expires)
		if err != nil {
			return req, fmt.Errorf("--expires: %w", err)
		}
		req.ExpiresAt = t
	case g.duration > 0:
		start := req.StartsAt
		if start.IsZero() {
			start = now
		}
		req.ExpiresAt = start.Add(g.duration)
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

type exceptionJSON struct {
	ID        string     `json:"id"`
	Scope     string     `json:"scope"`
	Subject   string     `json:"subject"`
	Control   string     `json:"control"`
	Reason    string     `json:"reason"`
	Approver  string     `json:"approver"`
	StartsAt  time.Time  `json:"starts_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	EndedBy   string     `json:"ended_by,omitempty"`
}

func exceptionsJSON(es []store.Exception) []exceptionJSON {
	out := make([]exceptionJSON, 0, len(es))
	for _, e := range es {
		j := exceptionJSON{ID: e.ID, Scope: e.Scope, Subject: e.Subject, Control: e.Control, Reason: e.Reason, Approver: e.Approver,
			StartsAt: e.StartsAt, ExpiresAt: e.ExpiresAt, CreatedAt: e.CreatedAt, EndedBy: e.EndedBy}
		if !e.EndedAt.IsZero() {
			t := e.EndedAt
			j.EndedAt = &t
		}
		out = append(out, j)
	}
	return out
}

// auditAdmin records an administrator's action taken on this machine;
// the actor is the operating-system account that ran the command.
func auditAdmin(ctx context.Context, d *deps, st store.Store, kind string, details any) error {
	_, err := auditLog(d, st).Append(ctx, audit.Entry{Actor: osActor(), Kind: kind, Details: details})
	return err
}

func osActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return "os:unknown"
}

// grantApprover is who approved an exception: a dashboard account allowed
// to grant exceptions (role approver) that is not locked, so that the
// audit log never names someone who does not exist; without --approver,
// the OS user running the command.
func grantApprover(ctx context.Context, st store.Store, name string) (string, error) {
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
