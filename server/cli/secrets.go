package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

type tokenOptions struct {
	db         storeOptions
	ttl        time.Duration
	org, owner string
}

func newTokenCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage enrollment tokens"}
	opts := tokenOptions{}
	create := &cobra.Command{
		Use:   "create",
		Short: "Print a one-time enrollment token (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return tokenCreate(cmd.Context(), d, opts)
		},
	}
	f := create.Flags()
	opts.db.register(f)
	f.Var(duration.NewValue(&opts.ttl, store.DefaultTokenTTL), "ttl", "how long the token stays valid, e.g. 7d or 12h")
	f.StringVar(&opts.org, "org", "", "organisation label copied to the device")
	f.StringVar(&opts.owner, "owner", "", "owner label copied to the device")
	cmd.AddCommand(create, NewCmdTokenList(d, nil), NewCmdTokenRevoke(d, nil))
	return cmd
}

// tokenCreate creates the CA if this is a fresh data directory, since the
// token must pin it.
func tokenCreate(ctx context.Context, d *deps, opts tokenOptions) error {
	now := d.now()
	st, err := openStore(ctx, d, opts.db)
	if err != nil {
		return err
	}
	defer st.Close()
	authority, err := serve.LoadCA(ctx, st, opts.db.dataDir, now)
	if err != nil {
		return err
	}
	tok, rec, err := store.NewEnrollToken(authority.Pin(), opts.ttl, opts.org, opts.owner, now)
	if err != nil {
		return usageError{err}
	}
	if err := st.CreateToken(ctx, rec); err != nil {
		return err
	}
	if err := auditAdmin(ctx, d, st, audit.KindTokenCreated, map[string]any{"org": opts.org, "owner": opts.owner,
		"expires_at": rec.ExpiresAt}); err != nil {
		return err
	}
	_, err = fmt.Fprintln(d.stdout, tok)
	return err
}

func newAPIKeyCmd(d *deps) *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage gateway API keys"}
	var db storeOptions
	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Print a new API key for a gateway (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, rec, err := store.NewAPIKey(name, d.now())
			if err != nil {
				return usageError{err}
			}
			st, err := openStore(cmd.Context(), d, db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CreateAPIKey(cmd.Context(), rec); err != nil {
				return err
			}
			if err := auditAdmin(cmd.Context(), d, st, audit.KindAPIKeyCreated, map[string]any{"id": rec.ID, "name": rec.Name}); err != nil {
				return err
			}
			_, err = fmt.Fprintln(d.stdout, key)
			return err
		},
	}
	db.register(create.Flags())
	create.Flags().StringVar(&name, "name", "", "name of the gateway using the key (required)")
	create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}
