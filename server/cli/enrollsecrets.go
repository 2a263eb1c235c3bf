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

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// defaultSecretLifetime is a fleet rollout's usual window.
const defaultSecretLifetime = 30 * 24 * time.Hour

type secretCreateOptions struct {
	db         storeOptions
	expires    string
	maxUses    int
	org, owner string
}

// newSecretCmd is `secret create|list|revoke`: reusable enrollment
// secrets for MDM rollouts (one package, many devices).
func newSecretCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "secret", Short: "Manage reusable enrollment secrets for fleets (MDM, GPO, Ansible)"}
	var c secretCreateOptions
	create := &cobra.Command{
		Use:   "create --org ORG",
		Short: "Print a reusable enrollment secret (alone on stdout); it pins this server's CA like a token",
		Long: `Print a reusable enrollment secret for an MDM package (the MSI's SECRET,
"postern-agent install --secret"). Every device it enrolls gets --org and
--owner. It stops working at --expires (a date, 2027-01-31, or a duration,
90d or 2160h; default 30d), after --max-uses devices (0: no limit), or when
revoked. Only its hash is stored; creation and revocation are audited.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return secretCreate(cmd.Context(), d, c)
		},
	}
	f := create.Flags()
	c.db.register(f)
	f.StringVar(&c.org, "org", "", "organisation label of every device the secret enrolls (required)")
	f.StringVar(&c.owner, "owner", "", "owner label of every device the secret enrolls")
	f.StringVar(&c.expires, "expires", "30d", "end of validity: a date (2027-01-31), a time (RFC 3339) or a duration (90d, 2160h)")
	f.IntVar(&c.maxUses, "max-uses", 0, "most devices the secret may enroll (0: no limit)")

	var ldb storeOptions
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List enrollment secrets (IDs, labels, uses; the secrets are not stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withSecretStore(cmd.Context(), d, ldb, func(_ store.Store, ss store.SecretStore) error {
				all, err := ss.EnrollSecrets(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]secretJSON, 0, len(all))
					for _, e := range all {
						out = append(out, toSecretJSON(e, d.now()))
					}
					return printJSON(d, out)
				}
				tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tORG\tOWNER\tUSES\tEXPIRES\tSTATE")
				for _, e := range all {
					j := toSecretJSON(e, d.now())
					limit := "unlimited"
					if e.MaxUses > 0 {
						limit = strconv.Itoa(e.MaxUses)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%s\t%s\t%s\n", e.ID, e.Org, orDash(e.Owner), e.Uses, limit,
						e.ExpiresAt.UTC().Format(time.RFC3339), j.State)
				}
				return tw.Flush()
			})
		},
	}
	dataFlag(list, &ldb)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var rdb storeOptions
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an enrollment secret: no further device enrolls with it (enrolled devices stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSecretStore(cmd.Context(), d, rdb, func(st store.Store, ss store.SecretStore) error {
				e, err := ss.RevokeEnrollSecret(cmd.Context(), args[0], d.now())
				if errors.Is(err, store.ErrNotFound) {
					return usageError{fmt.Errorf("no enrollment secret %q (see postern-server secret list)", args[0])}
				}
				if err != nil {
					return err
				}
				if err := auditAdmin(cmd.Context(), d, st, audit.KindAdmin, map[string]any{
					"action": "enroll_secret_revoked", "id": e.ID, "org": e.Org, "uses": e.Uses}); err != nil {
					return err
				}
				_, err = fmt.Fprintf(d.stdout, "enrollment secret %s revoked (%d device(s) enrolled with it keep their identity)\n", e.ID, e.Uses)
				return err
			})
		},
	}
	dataFlag(revoke, &rdb)
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func secretCreate(ctx context.Context, d *deps, o secretCreateOptions) error {
	now := d.now()
	if strings.TrimSpace(o.org) == "" {
		return usageError{errors.New("--org is required: a fleet secret says whose devices it enrolls")}
	}
	expires, err := parseExpiry(o.expires, now)
	if err != nil {
		return usageError{fmt.Errorf("--expires: %w", err)}
	}
	st, err := openStore(ctx, d, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	ss, ok := store.SecretStoreOf(st)
	if !ok {
		return errors.New("this store cannot keep enrollment secrets")
	}
	authority, err := serve.LoadCA(ctx, st, o.db.dataDir, now)
	if err != nil {
		return err
	}
	secret, rec, err := store.NewEnrollSecret(authority.Pin(), expires.Sub(now), o.maxUses, o.org, o.owner, now)
	if err != nil {
		return usageError{err}
	}
	if err := ss.CreateEnrollSecret(ctx, rec); err != nil {
		return err
	}
	if err := auditAdmin(ctx, d, st, audit.KindAdmin, map[string]any{"action": "enroll_secret_created", "id": rec.ID,
		"org": rec.Org, "owner": rec.Owner, "expires_at": rec.ExpiresAt, "max_uses": rec.MaxUses}); err != nil {
		return err
	}
	fmt.Fprintf(d.stderr, "enrollment secret %s for org %q, valid until %s\n", rec.ID, rec.Org, rec.ExpiresAt.UTC().Format(time.RFC3339))
	_, err = fmt.Fprintln(d.stdout, secret)
	return err
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

func withSecretStore(ctx context.Context, d *deps, db storeOptions, fn func(store.Store, store.SecretStore) error) error {
	return withStore(ctx, d, db, func(st store.Store) error {
		ss, ok := store.SecretStoreOf(st)
		if !ok {
			return errors.New("this store cannot keep enrollment secrets")
		}
		return fn(st, ss)
	})
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
