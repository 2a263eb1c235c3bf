package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/duration"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

func newTokenCmd(f *Factory) *cobra.Command {
	return group("token", "Manage enrollment tokens",
		NewCmdTokenCreate(f, nil), NewCmdTokenList(f, nil), NewCmdTokenRevoke(f, nil))
}

// TokenCreateOptions are the flags of `token create`.
type TokenCreateOptions struct {
	DB         StoreOptions
	TTL        time.Duration
	Org, Owner string
}

// NewCmdTokenCreate returns `token create`; runF, when set, gets the
// options.
func NewCmdTokenCreate(f *Factory, runF func(context.Context, *TokenCreateOptions) error) *cobra.Command {
	opts := &TokenCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Print a one-time enrollment token (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenCreateRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.DB.register(fl)
	fl.Var(duration.NewValue(&opts.TTL, store.DefaultTokenTTL), "ttl", "how long the token stays valid, e.g. 7d or 12h")
	fl.StringVar(&opts.Org, "org", "", "organisation label copied to the device")
	fl.StringVar(&opts.Owner, "owner", "", "owner label copied to the device")
	return cmd
}

// tokenCreateRun prints a token that pins the server's CA.
func tokenCreateRun(ctx context.Context, f *Factory, opts *TokenCreateOptions) error {
	return f.withStore(ctx, opts.DB, func(s *server) error {
		now := f.Now()
		authority, err := serve.LoadCA(ctx, s, s.dataDir, now)
		if err != nil {
			return err
		}
		tok, rec, err := store.NewEnrollToken(authority.Pin(), opts.TTL, opts.Org, opts.Owner, now)
		if err != nil {
			return cmdutil.UsageError{Err: err}
		}
		if err := s.CreateToken(ctx, rec); err != nil {
			return err
		}
		if err := s.auditAdmin(ctx, audit.KindTokenCreated, map[string]any{"org": opts.Org, "owner": opts.Owner,
			"expires_at": rec.ExpiresAt}); err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.Out, tok)
		return err
	})
}

// tokenIDLen is how much of a token's hash names it, as the dashboard
// names it; the hash is of the secret, so it gives nothing away.
const tokenIDLen = 12

// TokenListOptions are the flags of `token list`.
type TokenListOptions struct {
	DB   StoreOptions
	JSON bool
}

type tokenJSON struct {
	ID        string     `json:"id"`
	Org       string     `json:"org"`
	Owner     string     `json:"owner"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	DeviceID  string     `json:"device_id,omitempty"`
}

func tokenState(t store.TokenInfo, now time.Time) string {
	switch {
	case !t.UsedAt.IsZero():
		return "used"
	case !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "unused"
}

// NewCmdTokenList returns `token list`; runF, when set, gets the options.
func NewCmdTokenList(f *Factory, runF func(context.Context, *TokenListOptions) error) *cobra.Command {
	opts := &TokenListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List enrollment tokens, newest first: ID, organization, owner, and whether each is unused, used (by which device) or expired",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenListRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func tokenListRun(ctx context.Context, f *Factory, opts *TokenListOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		ts, err := st.Tokens(ctx, store.MaxPageSize)
		if err != nil {
			return err
		}
		now := f.Now()
		out := make([]tokenJSON, 0, len(ts))
		for _, t := range ts {
			j := tokenJSON{ID: t.Hash[:min(tokenIDLen, len(t.Hash))], Org: t.Org, Owner: t.Owner, State: tokenState(t, now),
				CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, DeviceID: t.DeviceID}
			if !t.UsedAt.IsZero() {
				u := t.UsedAt
				j.UsedAt = &u
			}
			out = append(out, j)
		}
		if opts.JSON {
			return f.printJSON(out)
		}
		tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tORG\tOWNER\tSTATE\tCREATED\tEXPIRES\tDEVICE")
		for _, j := range out {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Org, j.Owner, j.State,
				j.CreatedAt.Format(time.RFC3339), j.ExpiresAt.Format(time.RFC3339), j.DeviceID)
		}
		return tw.Flush()
	})
}

// TokenRevokeOptions are the flags and argument of `token revoke`.
type TokenRevokeOptions struct {
	DB     StoreOptions
	ID     string
	Reason string
}

// NewCmdTokenRevoke returns `token revoke`; runF, when set, gets the
// options.
func NewCmdTokenRevoke(f *Factory, runF func(context.Context, *TokenRevokeOptions) error) *cobra.Command {
	opts := &TokenRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke ID [--reason TEXT]",
		Short: "Revoke an unused enrollment token (ID from token list): it can no longer enroll a device",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = strings.ToLower(args[0])
			if len(opts.ID) < tokenIDLen || len(opts.ID) > 64 || strings.Trim(opts.ID, "0123456789abcdef") != "" {
				return cmdutil.UsageError{Err: fmt.Errorf("a token ID is %d to 64 hex digits, as token list shows it", tokenIDLen)}
			}
			if len(opts.Reason) > 500 {
				return cmdutil.UsageError{Err: fmt.Errorf("the reason is at most 500 bytes")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRevokeRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why (recorded in the audit log)")
	return cmd
}

func tokenRevokeRun(ctx context.Context, f *Factory, opts *TokenRevokeOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		ts, err := st.Tokens(ctx, store.MaxPageSize)
		if err != nil {
			return err
		}
		var match []store.TokenInfo
		for _, t := range ts {
			if strings.HasPrefix(t.Hash, opts.ID) {
				match = append(match, t)
			}
		}
		switch {
		case len(match) == 0:
			return fmt.Errorf("no token %s (token list shows the IDs)", opts.ID)
		case len(match) > 1:
			return fmt.Errorf("%s names %d tokens: give more of the ID", opts.ID, len(match))
		}
		t := match[0]
		now := f.Now()
		if s := tokenState(t, now); s != "unused" {
			return fmt.Errorf("token %s is already %s", opts.ID, s)
		}
		if err := st.RevokeToken(ctx, t.Hash, now); err != nil {
			return fmt.Errorf("revoke token %s: %w", opts.ID, err)
		}
		id := t.Hash[:tokenIDLen]
		if err := st.auditAdmin(ctx, audit.KindTokenRevoked, map[string]any{"token_id": id, "org": t.Org, "owner": t.Owner, "reason": opts.Reason}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "revoked token %s (%s, %s)\n", id, t.Org, t.Owner)
		return err
	})
}
