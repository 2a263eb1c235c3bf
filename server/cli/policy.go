package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

func newPolicyCmd(f *Factory) *cobra.Command {
	return group("policy", "Check policy files and see or accept held policy changes",
		NewCmdPolicyCheck(f, nil), NewCmdPolicyStatus(f, nil), NewCmdPolicyAccept(f, nil))
}

// PolicyCheckOptions are the argument of `policy check`.
type PolicyCheckOptions struct {
	File string
}

// NewCmdPolicyCheck returns `policy check`; runF, when set, gets the
// options.
func NewCmdPolicyCheck(f *Factory, runF func(context.Context, *PolicyCheckOptions) error) *cobra.Command {
	opts := &PolicyCheckOptions{}
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a policy file; errors name the field and line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return policyCheckRun(cmd.Context(), f, opts)
		},
	}
}

func policyCheckRun(_ context.Context, f *Factory, opts *PolicyCheckOptions) error {
	data, err := os.ReadFile(opts.File)
	if err != nil {
		return err
	}
	s, err := policy.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	_, err = fmt.Fprintf(f.Out, "ok: %s (sha256 %s, %d organization profiles)\n", opts.File, s.Hash, len(s.Profiles))
	return err
}

// PolicyStatusOptions are the flags of `policy status`.
type PolicyStatusOptions struct {
	DB   StoreOptions
	JSON bool
}

// NewCmdPolicyStatus returns `policy status`; runF, when set, gets the
// options.
func NewCmdPolicyStatus(f *Factory, runF func(context.Context, *PolicyStatusOptions) error) *cobra.Command {
	opts := &PolicyStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the active policy version and any change held by the mass-failure guard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return policyStatusRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func policyStatusRun(ctx context.Context, f *Factory, opts *PolicyStatusOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		s, err := policy.ReadStatus(ctx, st)
		if errors.Is(err, store.ErrNotFound) {
			return errors.New("no policy status yet: start postern-server serve once")
		}
		if err != nil {
			return err
		}
		if opts.JSON {
			return f.printJSON(s)
		}
		printStatus(f, s)
		return nil
	})
}

func printStatus(f *Factory, s policy.Status) {
	src := s.Source
	if src == "" {
		src = "built-in Policy 550.04 profile"
	}
	fmt.Fprintf(f.Out, "active: version %d since %s (%s, sha256 %s)\n", s.ActiveVersion, s.ActiveSince.Format(time.RFC3339), src, s.ActiveHash)
	if h := s.Held; h != nil {
		fmt.Fprintf(f.Out, "HELD: change sha256 %s since %s would deny %d of %d active devices (%.0f%%, limit %.0f%%)\n",
			h.Hash, h.Since.Format(time.RFC3339), h.Impact.NewlyDenied, h.Impact.Active, 100*h.Impact.Share, 100*h.MaxDenyShare)
		if len(h.Impact.Examples) > 0 {
			fmt.Fprintf(f.Out, "  for example: %v\n", h.Impact.Examples)
		}
		fmt.Fprintf(f.Out, "  apply anyway: postern-server policy accept %s --approver NAME\n", h.Hash)
	}
	if s.LastError != "" {
		fmt.Fprintf(f.Out, "last error (%s): %s\n", s.LastErrorAt.Format(time.RFC3339), s.LastError)
	}
}

// PolicyAcceptOptions are the flags and argument of `policy accept`.
type PolicyAcceptOptions struct {
	DB       StoreOptions
	Hash     string
	Approver string
}

// NewCmdPolicyAccept returns `policy accept`; runF, when set, gets the
// options.
func NewCmdPolicyAccept(f *Factory, runF func(context.Context, *PolicyAcceptOptions) error) *cobra.Command {
	opts := &PolicyAcceptOptions{}
	cmd := &cobra.Command{
		Use:   "accept HASH --approver NAME",
		Short: "Apply a held policy change despite the mass-failure guard (the server applies it within seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Hash = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return policyAcceptRun(cmd.Context(), f, opts)
		},
	}
	opts.DB.register(cmd.Flags())
	cmd.Flags().StringVar(&opts.Approver, "approver", "", "who accepts the change (required, audited)")
	cmd.MarkFlagRequired("approver")
	return cmd
}

func policyAcceptRun(ctx context.Context, f *Factory, opts *PolicyAcceptOptions) error {
	return f.withStore(ctx, opts.DB, func(st *server) error {
		if err := policy.Accept(ctx, st, st.audit, opts.Hash, opts.Approver, f.Now()); err != nil {
			return err
		}
		_, err := fmt.Fprintf(f.Out, "accepted %s\n", opts.Hash)
		return err
	})
}
