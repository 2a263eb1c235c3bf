package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// addAPIKeyCommands adds list and revoke to root's apikey command.
func addAPIKeyCommands(d *deps, root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == "apikey" {
			c.AddCommand(newAPIKeyListCmd(d), newAPIKeyRevokeCmd(d))
		}
	}
}

type apiKeyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func newAPIKeyListCmd(d *deps) *cobra.Command {
	var db storeOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List gateway API keys (IDs and names; the secrets are not stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				var l store.APIKeyLister = st
				keys, err := l.APIKeys(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]apiKeyJSON, 0, len(keys))
					for _, k := range keys {
						j := apiKeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt}
						if !k.RevokedAt.IsZero() {
							t := k.RevokedAt
							j.RevokedAt = &t
						}
						out = append(out, j)
					}
					return printJSON(d, out)
				}
				tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
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
		},
	}
	dataFlag(cmd, &db)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newAPIKeyRevokeCmd(d *deps) *cobra.Command {
	var db storeOptions
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke ID [--reason TEXT]",
		Short: "Revoke a gateway API key; running servers refuse it within 5 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if len(id) > 64 || len(reason) > 500 {
				return usageError{errors.New("the ID is at most 64 bytes and the reason 500")}
			}
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				var r store.APIKeyRevoker = st
				k, err := st.APIKey(cmd.Context(), id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no api key %q", id)
				}
				if err != nil {
					return err
				}
				err = r.RevokeAPIKey(cmd.Context(), id, d.now())
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("api key %s is already revoked", id)
				}
				if err != nil {
					return err
				}
				if err := auditAdmin(cmd.Context(), d, st, audit.KindAPIKeyRevoked, map[string]any{"id": k.ID, "name": k.Name, "reason": reason}); err != nil {
					return err
				}
				_, err = fmt.Fprintf(d.stdout, "revoked %s (%s)\n", k.ID, k.Name)
				return err
			})
		},
	}
	dataFlag(cmd, &db)
	cmd.Flags().StringVar(&reason, "reason", "", "why the key is revoked (recorded in the audit log)")
	return cmd
}
