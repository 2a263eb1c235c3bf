package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// tokenIDLen is how much of a token's hash names it, as the dashboard
// names it; the hash is of the secret, so it gives nothing away.
const tokenIDLen = 12

// TokenListOptions are the flags of `token list`.
type TokenListOptions struct {
	DB   storeOptions
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
func NewCmdTokenList(d *deps, runF func(context.Context, *TokenListOptions) error) *cobra.Command {
	opts := &TokenListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List enrollment tokens, newest first: ID, organization, owner, and whether each is unused, used (by which device) or expired",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenListRun(cmd.Context(), d, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func tokenListRun(ctx context.Context, d *deps, opts *TokenListOptions) error {
	return withStore(ctx, d, opts.DB, func(st store.Store) error {
		ts, err := st.Tokens(ctx, store.MaxPageSize)
		if err != nil {
			return err
		}
		now := d.now()
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
			return printJSON(d, out)
		}
		tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
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
	DB     storeOptions
	ID     string
	Reason string
}

// NewCmdTokenRevoke returns `token revoke`; runF, when set, gets the
// options.
func NewCmdTokenRevoke(d *deps, runF func(context.Context, *TokenRevokeOptions) error) *cobra.Command {
	opts := &TokenRevokeOptions{}
	cmd := &cobra.Command{
		Use:   "revoke ID [--reason TEXT]",
		Short: "Revoke an unused enrollment token (ID from token list): it can no longer enroll a device",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = strings.ToLower(args[0])
			if len(opts.ID) < tokenIDLen || len(opts.ID) > 64 || strings.Trim(opts.ID, "0123456789abcdef") != "" {
				return usageError{fmt.Errorf("a token ID is %d to 64 hex digits, as token list shows it", tokenIDLen)}
			}
			if len(opts.Reason) > 500 {
				return usageError{fmt.Errorf("the reason is at most 500 bytes")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRevokeRun(cmd.Context(), d, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "why (recorded in the audit log)")
	return cmd
}

func tokenRevokeRun(ctx context.Context, d *deps, opts *TokenRevokeOptions) error {
	return withStore(ctx, d, opts.DB, func(st store.Store) error {
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
		now := d.now()
		if s := tokenState(t, now); s != "unused" {
			return fmt.Errorf("token %s is already %s", opts.ID, s)
		}
		if err := st.RevokeToken(ctx, t.Hash, now); err != nil {
			return fmt.Errorf("revoke token %s: %w", opts.ID, err)
		}
		id := t.Hash[:tokenIDLen]
		if err := auditAdmin(ctx, d, st, audit.KindTokenRevoked, map[string]any{"token_id": id, "org": t.Org, "owner": t.Owner, "reason": opts.Reason}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(d.stdout, "revoked token %s (%s, %s)\n", id, t.Org, t.Owner)
		return err
	})
}
