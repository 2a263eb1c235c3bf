package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/exceptions"
)

func newAttestationCmd(f *Factory) *cobra.Command {
	return group("attestation", "Record users' yearly attestations", NewCmdAttestationRecord(f, nil))
}

// AttestationRecordOptions are the flags of `attestation record`.
type AttestationRecordOptions struct {
	DB                                 StoreOptions
	Device, User, StatementVersion, By string
}

// NewCmdAttestationRecord returns `attestation record`; runF, when set,
// gets the options.
func NewCmdAttestationRecord(f *Factory, runF func(context.Context, *AttestationRecordOptions) error) *cobra.Command {
	opts := &AttestationRecordOptions{}
	cmd := &cobra.Command{
		Use:   "record --device ID --user NAME --statement-version V --by NAME",
		Short: "Record that a user accepted the remote-access statement for a device (taken on paper or by e-mail)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return attestationRecordRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	opts.DB.register(fl)
	fl.StringVar(&opts.Device, "device", "", "device ID (required)")
	fl.StringVar(&opts.User, "user", "", "the user who attests (required)")
	fl.StringVar(&opts.StatementVersion, "statement-version", "", "version of the statement the user accepted (required)")
	fl.StringVar(&opts.By, "by", "", "administrator recording it (required)")
	for _, n := range []string{"device", "user", "statement-version", "by"} {
		cmd.MarkFlagRequired(n)
	}
	return cmd
}

func attestationRecordRun(ctx context.Context, f *Factory, opts *AttestationRecordOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		a, err := exceptions.NewService(st, st.audit, f.Now).Attest(ctx, opts.Device, opts.User, opts.StatementVersion, opts.By)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f.Out, a.ID)
		return err
	})
}
