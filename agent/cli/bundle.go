package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/bundle"
	"github.com/postern-dev/postern/internal/cmdutil"
	"github.com/postern-dev/postern/internal/version"
)

// BundleOptions are the flags of `bundle`.
type BundleOptions struct {
	StateDir string
	Output   string
	// Force replaces an existing Output.
	Force bool
}

// NewCmdBundle returns `bundle`.
func NewCmdBundle(f *Factory, runF func(context.Context, *BundleOptions) error) *cobra.Command {
	opts := &BundleOptions{}
	cmd := &cobra.Command{
		Use:   "bundle -o FILE",
		Short: "Write a support bundle (a snapshot of one check, status and verdicts; no keys or tokens) for the security team",
		Long: `Check this device once and write a support bundle to FILE (.tar.gz): every
answer the checks got from the machine, the agent's status and the check's
verdicts. The security team re-checks it anywhere with
"postern-agent check --replay FILE". Keys, tokens and password hashes are
never included; see docs/bundle.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Output == "" {
				return cmdutil.Usagef("-o FILE is required")
			}
			if err := cmdutil.RefuseOverwrite(opts.Output, opts.Force); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return bundleRun(cmd.Context(), f, opts)
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "bundle `FILE` to write (.tar.gz)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace FILE if it exists")
	return cmd
}

func bundleRun(ctx context.Context, f *Factory, opts *BundleOptions) error {
	if f.Device == nil {
		return errors.New("this build has no device collector")
	}
	p, err := checkPolicy(&CheckOptions{StateDir: opts.StateDir})
	if err != nil {
		return err
	}
	st, err := loadStatus(f, opts.StateDir)
	if err != nil {
		return err
	}
	st.Service = serviceState(f, opts.StateDir)
	var sj bytes.Buffer
	if err := st.WriteJSON(&sj); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	res, err := bundle.Write(ctx, opts.Output, bundle.Input{
		Host: f.LiveHost(), Device: f.Device, Policy: p, Now: f.Now(),
		AgentVersion: version.Version, StatusJSON: sj.Bytes(),
	})
	if err != nil {
		return err
	}
	verdict := "not compliant"
	if res.Compliant {
		verdict = "compliant"
	}
	fmt.Fprintf(f.Out, "bundle written to %s (%d controls, %s)\nre-check it with: postern-agent check --replay %s\n", opts.Output, res.Controls, verdict, opts.Output)
	return nil
}
