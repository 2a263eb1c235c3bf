package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// maxAPIKeyLifetime bounds --expires: a key meant to live longer should
// not expire at all (and be revoked when retired).
const maxAPIKeyLifetime = 10 * 366 * 24 * time.Hour

func newAPIKeyCmd(f *Factory) *cobra.Command {
	return group("apikey", "Manage API keys: gateways' and automation's, each with scopes",
		NewCmdAPIKeyCreate(f, nil), NewCmdAPIKeyList(f, nil), NewCmdAPIKeyRevoke(f, nil))
}

// APIKeyCreateOptions are the flags of `apikey create`.
type APIKeyCreateOptions struct {
	DB     StoreOptions
	Name   string
	Scopes []store.Scope
	// Expires is the key's lifetime; zero means it does not expire.
	Expires time.Duration
}

// NewCmdAPIKeyCreate returns `apikey create`; runF, when set, gets the
// options.
func NewCmdAPIKeyCreate(f *Factory, runF func(context.Context, *APIKeyCreateOptions) error) *cobra.Command {
	opts := &APIKeyCreateOptions{}
	var scopes []string
	cmd := &cobra.Command{
		Use:   "create --name NAME [--scope S[,S]] [--expires 90d]",
		Short: "Print a new API key (alone on stdout); only its hash is kept, so it cannot be shown again",
		Long: `Print a new API key (alone on stdout); only its hash is kept, so it cannot be shown again.

Scopes: ` + store.JoinScopes(store.AllScopes) + `.
admin includes every other scope. Without --scope the key is a gateway's:
` + store.JoinScopes(store.GatewayScopes) + `. The owner recorded is the OS user running the command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := store.ParseScopes(strings.Join(scopes, ","))
			if err != nil {
				return cmdutil.UsageError{Err: fmt.Errorf("--scope: %w", err)}
			}
			opts.Scopes = sc
			if opts.Expires < 0 || opts.Expires > maxAPIKeyLifetime {
				return cmdutil.UsageError{Err: fmt.Errorf("--expires must be positive and at most %s (or left out for a key that does not expire)", duration.Format(maxAPIKeyLifetime))}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return apiKeyCreateRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Name, "name", "", "what uses the key, e.g. the gateway's or the script's name (required)")
	cmd.Flags().StringSliceVar(&scopes, "scope", []string{store.JoinScopes(store.GatewayScopes)}, "scopes, comma-separated or repeated")
	cmd.Flags().Var(duration.NewValue(&opts.Expires, 0), "expires", "lifetime, e.g. 90d or 12h (default: does not expire)")
	cmd.MarkFlagRequired("name")
	return cmd
}

func apiKeyCreateRun(ctx context.Context, f *Factory, opts *APIKeyCreateOptions) error {
	now := f.Now()
	key, rec, err := store.NewAPIKey(opts.Name, now)
	if err != nil {
		return cmdutil.UsageError{Err: err}
	}
	rec.Scopes, rec.Owner = opts.Scopes, osActor()
	if opts.Expires > 0 {
		rec.ExpiresAt = now.Add(opts.Expires)
	}
	return f.withStore(ctx, opts.DB, func(st *server) error {
		if err := st.CreateAPIKey(ctx, rec); err != nil {
			return err
		}
		details := map[string]any{"id": rec.ID, "name": rec.Name, "scopes": store.JoinScopes(rec.Scopes)}
		if !rec.ExpiresAt.IsZero() {
			details["expires_at"] = rec.ExpiresAt
		}
		if err := st.auditAdmin(ctx, audit.KindAPIKeyCreated, details); err != nil {
			return err
		}
		_, err := fmt.Fprintln(f.Out, key)
		return err
	})
}

// APIKeyJSON is an API key as listed: never its secret or hash.
type APIKeyJSON struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Scopes     []store.Scope `json:"scopes"`
	Owner      string        `json:"owner"`
	State      string        `json:"state"`
	CreatedAt  time.Time     `json:"created_at"`
	ExpiresAt  time.Time     `json:"expires_at,omitzero"`
	LastUsedAt time.Time     `json:"last_used_at,omitzero"`
	RevokedAt  time.Time     `json:"revoked_at,omitzero"`
}

// apiKeyState is "active", "expired" or "revoked".
func apiKeyState(k store.APIKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.Usable(now):
		return "expired"
	}
	return "active"
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
		Short: "List API keys, oldest first: ID, name, scopes, owner, state, expiry and last use (never the secrets, which are not stored)",
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
		now := f.Now()
		out := make([]APIKeyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, APIKeyJSON{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Owner: k.Owner, State: apiKeyState(k, now),
				CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt})
		}
		if opts.JSON {
			return f.printJSON(out)
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tOWNER\tSTATE\tCREATED\tEXPIRES\tLAST USED")
		for _, k := range out {
			state := k.State
			if state == "revoked" {
				state += " " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, store.JoinScopes(k.Scopes), orDash(k.Owner), state,
				k.CreatedAt.Format(time.RFC3339), timeOr(k.ExpiresAt, "never"), timeOr(k.LastUsedAt, "never"))
		}
		return tw.Flush()
	})
}

func timeOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Format(time.RFC3339)
}

// APIKeyRevokeOptions are the argument and flags of `apikey revoke`.
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
		Short: "Revoke an API key; running servers refuse it within 5 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if len(opts.ID) > 64 || len(opts.Reason) > 500 {
				return cmdutil.UsageError{Err: errors.New("the ID is at most 64 bytes and the reason 500")}
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
