package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

func newPolicyCmd(d *deps) *cobra.Command {
	var db storeOptions
	cmd := &cobra.Command{Use: "policy", Short: "Check policy files and see or accept held policy changes"}
	dataFlag(cmd, &db)
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a policy file; errors name the field and line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			s, err := policy.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(d.stdout, "ok: %s (sha256 %s, %d organization profiles)\n", args[0], s.Hash, len(s.Profiles))
			return err
		},
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the active policy version and any change held by the mass-failure guard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				s, err := policy.ReadStatus(cmd.Context(), st)
				if errors.Is(err, store.ErrNotFound) {
					return errors.New("no policy status yet: start postern-server serve once")
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(d, s)
				}
				printStatus(d, s)
				return nil
			})
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var approver string
	accept := &cobra.Command{
		Use:   "accept HASH --approver NAME",
		Short: "Apply a held policy change despite the mass-failure guard (the server applies it within seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				if err := policy.Accept(cmd.Context(), st, auditLog(d, st), args[0], approver, d.now()); err != nil {
					return err
				}
				_, err := fmt.Fprintf(d.stdout, "accepted %s\n", args[0])
				return err
			})
		},
	}
	accept.Flags().StringVar(&approver, "approver", "", "who accepts the change (required, audited)")
	accept.MarkFlagRequired("approver")
	cmd.AddCommand(check, status, accept)
	return cmd
}

func printStatus(d *deps, s policy.Status) {
	src := s.Source
	if src == "" {
		src = "built-in Policy 550.04 profile"
	}
	fmt.Fprintf(d.stdout, "active: version %d since %s (%s, sha256 %s)\n", s.ActiveVersion, s.ActiveSince.Format(time.RFC3339), src, s.ActiveHash)
	if h := s.Held; h != nil {
		fmt.Fprintf(d.stdout, "HELD: change sha256 %s since %s would deny %d of %d active devices (%.0f%%, limit %.0f%%)\n",
			h.Hash, h.Since.Format(time.RFC3339), h.Impact.NewlyDenied, h.Impact.Active, 100*h.Impact.Share, 100*h.MaxDenyShare)
		if len(h.Impact.Examples) > 0 {
			fmt.Fprintf(d.stdout, "  for example: %v\n", h.Impact.Examples)
		}
		fmt.Fprintf(d.stdout, "  apply anyway: postern-server policy accept %s --approver NAME\n", h.Hash)
	}
	if s.LastError != "" {
		fmt.Fprintf(d.stdout, "last error (%s): %s\n", s.LastErrorAt.Format(time.RFC3339), s.LastError)
	}
}

func newAuditCmd(d *deps) *cobra.Command {
	var db storeOptions
	cmd := &cobra.Command{Use: "audit", Short: "Verify and export the hash-chained audit log"}
	dataFlag(cmd, &db)
	var vo verifyOptions
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check every row of the audit log, and with --checkpoints the signed checkpoints; exit 1 naming each forged row",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				return auditVerify(cmd.Context(), d, st, db.dataDir, vo)
			})
		},
	}
	verify.Flags().BoolVar(&vo.checkpoints, "checkpoints", false, "also check the signed checkpoints written outside the database (needs audit.key)")
	verify.Flags().StringVar(&vo.file, "checkpoint-file", "", "checkpoint file (default DATA/"+audit.CheckpointFile+")")
	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Start a new audit key (stop every server first, then copy audit.key to every replica)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				k, err := auditLog(d, st).RotateKey(cmd.Context(), db.dataDir)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(d.stdout, "audit key %s authenticates rows from %d; copy %s to every replica\n", k.ID, k.FromSeq, audit.KeyPath(db.dataDir))
				return err
			})
		},
	}
	var after uint64
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the audit log as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), d, db, func(st store.Store) error {
				return auditLog(d, st).Export(cmd.Context(), d.stdout, after)
			})
		},
	}
	export.Flags().Uint64Var(&after, "after", 0, "export only rows after this sequence number")
	cmd.AddCommand(verify, export, rotate)
	return cmd
}
