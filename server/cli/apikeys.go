package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

func newAPIKeyCmd(f *Factory) *cobra.Command {
	return group("apikey", "Manage gateway API keys",
		NewCmdAPIKeyCreate(f, nil), NewCmdAPIKeyList(f, nil), NewCmdAPIKeyRevoke(f, nil))
}

// APIKeyCreateOptions are the flags of `apikey create`.
type APIKeyCreateOptions struct {
	DB   StoreOptions
	Name string
}

// NewCmdAPIKeyCreate returns `apikey create`; runF, when set, gets the
// options.
func NewCmdAPIKeyCreate(f *Factory, runF func(context.Context, *APIKeyCreateOptions) error) *cobra.Command {
	opts := &APIKeyCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Print a new API key for a gateway (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return apiKeyCreateRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Name, "name", "", "name of the gateway using the key (required)")
	cmd.MarkFlagRequired("name")
	return cmd
}

func apiKeyCreateRun(ctx context.Context, f *Factory, opts *APIKeyCreateOptions) error {
	key, rec, err := store.NewAPIKey(opts.Name, f.Now())
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	return f.withStore(ctx, opts.DB, func(st *server) error {
		if err := st.CreateAPIKey(ctx, rec); err != nil {
			return err
		}
		if err := st.auditAdmin(ctx, audit.KindAPIKeyCreated, map[string]any{"id": rec.ID, "name": rec.Name}); err != nil {
			return err
		}
		_, err := fmt.Fprintln(f.Out, key)
		return err
	})
}

type apiKeyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyListOptions are the flags of `apikey list`.
type APIKeyListOptions struct {
	DB   StoreOptions
	JSON bool
}

// NewCmdAPIKeyList returns `apikey list`; runF, when set, gets the
// options.
func NewCmdAPIKeyList(f *Factory, runF func(context.Context, *APIKeyListOptions) error) *cobra.Command {
	opts := &APIKeyListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List gateway API keys (IDs and names; the secrets are not stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return apiKeyListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func apiKeyListRun(ctx context.Context, f *Factory, opts *APIKeyListOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		keys, err := st.APIKeys(ctx)
		if err != nil {
			return err
		}
		if opts.JSON {
			out := make([]apiKeyJSON, 0, len(keys))
			for _, k := range keys {
				j := apiKeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt}
				if !k.RevokedAt.IsZero() {
					t := k.RevokedAt
					j.RevokedAt = &t
				}
				out = append(out, j)
			}
			return f.printJSON(out)
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if !k.RevokedAt.IsZero() {
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Format(time.RFC3339), state)
		}
		return tw.Flush()
	})
}

// APIKeyRevokeOptions are the flags and argument of `apikey revoke`.
type APIKeyRevokeOptions struct {
	DB     StoreOptions
	ID     string
	Reason string
}

// NewCmdAPIKeyRevoke returns `apikey revoke`; runF, when set, gets the
// options.
func NewCmdAPIKeyRevoke(f *Factory, runF func(context.Context, *APIKeyRevokeOptions) error) *cobra.Command {
	opts := &APIKeyRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke ID [--reason TEXT]",
		Short: "Revoke a gateway API key; running servers refuse it within 5 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if len(opts.ID) > 64 || len(opts.Reason) > 500 {
				return cmdutil.Usagef("the ID is at most 64 bytes and the reason 500")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return apiKeyRevokeRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why the key is revoked (recorded in the audit log)")
	return cmd
}

func apiKeyRevokeRun(ctx context.Context, f *Factory, opts *APIKeyRevokeOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		k, err := st.APIKey(ctx, opts.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no api key %q", opts.ID)
		}
		if err != nil {
			return err
		}
		err = st.RevokeAPIKey(ctx, opts.ID, f.Now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("api key %s is already revoked", opts.ID)
		}
		if err != nil {
			return err
		}
		if err := st.auditAdmin(ctx, audit.KindAPIKeyRevoked, map[string]any{"id": k.ID, "name": k.Name, "reason": opts.Reason}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "revoked %s (%s)\n", k.ID, k.Name)
		return err
	})
}
