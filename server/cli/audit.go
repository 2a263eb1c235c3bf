package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/audit"
)

func newAuditCmd(f *Factory) *cobra.Command {
	return group("audit", "Verify and export the hash-chained audit log",
		NewCmdAuditVerify(f, nil), NewCmdAuditExport(f, nil), NewCmdAuditRotateKey(f, nil))
}

// AuditVerifyOptions are the flags of `audit verify`.
type AuditVerifyOptions struct {
	DB             StoreOptions
	Checkpoints    bool
	CheckpointFile string
	// AlertConfig names a server configuration whose alerts receive a
	// break found (auditalert.go).
	AlertConfig string
}

// NewCmdAuditVerify returns `audit verify`; runF, when set, gets the
// options.
func NewCmdAuditVerify(f *Factory, runF func(context.Context, *AuditVerifyOptions) error) *cobra.Command {
	opts := &AuditVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [--checkpoints]",
		Short: "Check every row of the audit log, and with --checkpoints the signed checkpoints; exit 1 naming each forged row",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditVerifyRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.Checkpoints, "checkpoints", false, "also check the signed checkpoints written outside the database (needs audit.key)")
	cmd.Flags().StringVar(&opts.CheckpointFile, "checkpoint-file", "", "checkpoint file (default DATA/"+audit.CheckpointFile+")")
	cmd.Flags().StringVar(&opts.AlertConfig, "alert-config", "", "server configuration file whose alerts (email, Slack, Teams) are sent a break found")
	return cmd
}

// auditVerifyRun walks the chain (with the audit key when there is one)
// and, with --checkpoints, compares the signed checkpoints; every problem
// is printed in row order, so the first line names the first forged row.
func auditVerifyRun(ctx context.Context, f *Factory, opts *AuditVerifyOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		l := st.audit
		if opts.Checkpoints && l.Keys() == nil {
			return fmt.Errorf("verify checkpoints: %w in %s (the server creates it at start)", audit.ErrNoKey, st.dataDir)
		}
		res, err := l.Verify(ctx)
		if err != nil {
			return err
		}
		problems := res.Problems
		var cres audit.CheckpointResult
		if opts.Checkpoints {
			file := opts.CheckpointFile
			if file == "" {
				file = audit.CheckpointPath(st.dataDir)
			}
			if cres, err = l.VerifyCheckpoints(ctx, file); err != nil {
				return err
			}
			problems = append(problems, cres.Problems...)
		}
		audit.SortProblems(problems)
		for _, p := range problems {
			fmt.Fprintln(f.Out, p.String())
		}
		if len(problems) > 0 {
			tampered := fmt.Errorf("audit log tampered: %d problems in rows %d to %d", len(problems), res.First, res.Last)
			if opts.AlertConfig != "" {
				if err := alertAuditBreak(ctx, f, st, opts.AlertConfig); err != nil {
					return errors.Join(tampered, err)
				}
			}
			return tampered
		}
		fmt.Fprintf(f.Out, "ok: %d rows (%d to %d) intact\n", res.Rows, res.First, res.Last)
		switch {
		case !res.Keyed:
			fmt.Fprintln(f.Out, "warning: the audit log is not keyed (no audit.key): whoever can write the database could rewrite it")
		case res.UnkeyedThrough >= res.First && res.UnkeyedThrough > 0:
			fmt.Fprintf(f.Out, "rows %d to %d predate the audit key and carry plain hashes\n", res.First, res.UnkeyedThrough)
		}
		if opts.Checkpoints {
			fmt.Fprintf(f.Out, "checkpoints: %d signed, the latest at row %d (%s)\n", cres.Checkpoints, cres.Latest.Seq, cres.Latest.At.Format(time.RFC3339))
		}
		return nil
	})
}

// AuditExportOptions are the flags of `audit export`.
type AuditExportOptions struct {
	DB    StoreOptions
	After uint64
}

// NewCmdAuditExport returns `audit export`; runF, when set, gets the
// options.
func NewCmdAuditExport(f *Factory, runF func(context.Context, *AuditExportOptions) error) *cobra.Command {
	opts := &AuditExportOptions{}
	cmd := &cobra.Command{
		Use:   "export [--after SEQ]",
		Short: "Print the audit log as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditExportRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().Uint64Var(&opts.After, "after", 0, "export only rows after this sequence number")
	return cmd
}

func auditExportRun(ctx context.Context, f *Factory, opts *AuditExportOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		return st.audit.Export(ctx, f.Out, opts.After)
	})
}

// AuditRotateKeyOptions are the flags of `audit rotate-key`.
type AuditRotateKeyOptions struct {
	DB StoreOptions
}

// NewCmdAuditRotateKey returns `audit rotate-key`; runF, when set, gets
// the options.
func NewCmdAuditRotateKey(f *Factory, runF func(context.Context, *AuditRotateKeyOptions) error) *cobra.Command {
	opts := &AuditRotateKeyOptions{}
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Start a new audit key (stop every server first, then copy audit.key to every replica)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRotateKeyRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	return cmd
}

func auditRotateKeyRun(ctx context.Context, f *Factory, opts *AuditRotateKeyOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		k, err := st.audit.RotateKey(ctx, st.dataDir)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.Out, "audit key %s authenticates rows from %d; copy %s to every replica\n", k.ID, k.FromSeq, audit.KeyPath(st.dataDir))
		return err
	})
}
