package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// defaultSecretLifetime is a fleet rollout's usual window.
const defaultSecretLifetime = 30 * 24 * time.Hour

func newSecretCmd(f *Factory) *cobra.Command {
	return group("secret", "Manage reusable enrollment secrets for fleets (MDM, GPO, Ansible)",
		NewCmdSecretCreate(f, nil), NewCmdSecretList(f, nil), NewCmdSecretRevoke(f, nil))
}

// SecretCreateOptions are the flags of `secret create`: reusable
// enrollment secrets for MDM rollouts (one package, many devices).
type SecretCreateOptions struct {
	DB         StoreOptions
	Expires    string
	MaxUses    int
	Org, Owner string
}

// NewCmdSecretCreate returns `secret create`; runF, when set, gets the
// options.
func NewCmdSecretCreate(f *Factory, runF func(context.Context, *SecretCreateOptions) error) *cobra.Command {
	opts := &SecretCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --org ORG",
		Short: "Print a reusable enrollment secret (alone on stdout); it pins this server's CA like a token",
		Long: `Print a reusable enrollment secret for an MDM package (the MSI's SECRET,
"postern-agent install --secret"). Every device it enrolls gets --org and
--owner. It stops working at --expires (a date, 2027-01-31, or a duration,
90d or 2160h; default 30d), after --max-uses devices (0: no limit), or when
revoked. Only its hash is stored; creation and revocation are audited.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(opts.Org) == "" {
				return cmdutil.Usagef("--org is required: a fleet secret says whose devices it enrolls")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return secretCreateRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.DB.register(fl)
	fl.StringVar(&opts.Org, "org", "", "organisation label of every device the secret enrolls (required)")
	fl.StringVar(&opts.Owner, "owner", "", "owner label of every device the secret enrolls")
	fl.StringVar(&opts.Expires, "expires", "30d", "end of validity: a date (2027-01-31), a time (RFC 3339) or a duration (90d, 2160h)")
	fl.IntVar(&opts.MaxUses, "max-uses", 0, "most devices the secret may enroll (0: no limit)")
	return cmd
}

func secretCreateRun(ctx context.Context, f *Factory, opts *SecretCreateOptions) error {
	now := f.Now()
	expires, err := parseExpiry(opts.Expires, now)
	if err != nil {
		return cmdutil.UsageError{Err: fmt.Errorf("--expires: %w", err)}
	}
	return f.withStore(ctx, opts.DB, func(st *server) error {
		authority, err := serve.LoadCA(ctx, st, st.dataDir, now)
		if err != nil {
			return err
		}
		secret, rec, err := store.NewEnrollSecret(authority.Pin(), expires.Sub(now), opts.MaxUses, opts.Org, opts.Owner, now)
		if err != nil {
			return cmdutil.UsageError{Err: err}
		}
		if err := st.CreateEnrollSecret(ctx, rec); err != nil {
			return err
		}
		if err := st.auditAdmin(ctx, audit.KindAdmin, map[string]any{"action": "enroll_secret_created", "id": rec.ID,
			"org": rec.Org, "owner": rec.Owner, "expires_at": rec.ExpiresAt, "max_uses": rec.MaxUses}); err != nil {
			return err
		}
		fmt.Fprintf(f.ErrOut, "enrollment secret %s for org %q, valid until %s\n", rec.ID, rec.Org, rec.ExpiresAt.UTC().Format(time.RFC3339))
		_, err = fmt.Fprintln(f.Out, secret)
		return err
	})
}

// SecretListOptions are the flags of `secret list`.
type SecretListOptions struct {
	DB   StoreOptions
	JSON bool
}

// NewCmdSecretList returns `secret list`; runF, when set, gets the
// options.
func NewCmdSecretList(f *Factory, runF func(context.Context, *SecretListOptions) error) *cobra.Command {
	opts := &SecretListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List enrollment secrets (IDs, labels, uses; the secrets are not stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return secretListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func secretListRun(ctx context.Context, f *Factory, opts *SecretListOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		all, err := st.EnrollSecrets(ctx)
		if err != nil {
			return err
		}
		now := f.Now()
		if opts.JSON {
			out := make([]secretJSON, 0, len(all))
			for _, e := range all {
				out = append(out, toSecretJSON(e, now))
			}
			return f.printJSON(out)
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tORG\tOWNER\tUSES\tEXPIRES\tSTATE")
		for _, e := range all {
			j := toSecretJSON(e, now)
			limit := "unlimited"
			if e.MaxUses > 0 {
				limit = strconv.Itoa(e.MaxUses)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%s\t%s\t%s\n", e.ID, e.Org, orDash(e.Owner), e.Uses, limit,
				e.ExpiresAt.UTC().Format(time.RFC3339), j.State)
		}
		return tw.Flush()
	})
}

// SecretRevokeOptions are the flags and argument of `secret revoke`.
type SecretRevokeOptions struct {
	DB StoreOptions
	ID string
}

// NewCmdSecretRevoke returns `secret revoke`; runF, when set, gets the
// options.
func NewCmdSecretRevoke(f *Factory, runF func(context.Context, *SecretRevokeOptions) error) *cobra.Command {
	opts := &SecretRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an enrollment secret: no further device enrolls with it (enrolled devices stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return secretRevokeRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	return cmd
}

func secretRevokeRun(ctx context.Context, f *Factory, opts *SecretRevokeOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		e, err := st.RevokeEnrollSecret(ctx, opts.ID, f.Now())
		if errors.Is(err, store.ErrNotFound) {
			return cmdutil.Usagef("no enrollment secret %q (see postern-server secret list)", opts.ID)
		}
		if err != nil {
			return err
		}
		if err := st.auditAdmin(ctx, audit.KindAdmin, map[string]any{
			"action": "enroll_secret_revoked", "id": e.ID, "org": e.Org, "uses": e.Uses}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "enrollment secret %s revoked (%d device(s) enrolled with it keep their identity)\n", e.ID, e.Uses)
		return err
	})
}

// parseExpiry reads a date, an RFC 3339 time or a duration (with days).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("%q: want a positive number of days, such as 90d", s)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: must be positive", s)
		}
		return now.Add(d), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a date (2027-01-31), an RFC 3339 time or a duration (90d)", s)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%q is not in the future", s)
	}
	return t, nil
}

type secretJSON struct {
	ID        string     `json:"id"`
	Org       string     `json:"org"`
	Owner     string     `json:"owner,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	MaxUses   int        `json:"max_uses"`
	Uses      int        `json:"uses"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// State is active, revoked, expired or used up.
	State string `json:"state"`
}

func toSecretJSON(e store.EnrollSecret, now time.Time) secretJSON {
	j := secretJSON{ID: e.ID, Org: e.Org, Owner: e.Owner, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt,
		MaxUses: e.MaxUses, Uses: e.Uses, State: "active"}
	switch {
	case !e.RevokedAt.IsZero():
		t := e.RevokedAt
		j.RevokedAt, j.State = &t, "revoked"
	case !now.Before(e.ExpiresAt):
		j.State = "expired"
	case e.MaxUses > 0 && e.Uses >= e.MaxUses:
		j.State = "used up"
	}
	return j
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
