package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/attest"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cmdutil"
	pb "github.com/postern-dev/postern/proto"
)

// AttestOptions are the flags of `attest`.
type AttestOptions struct {
	StateDir string
	// User is who attests; asked for when empty and interactive.
	User string
	// Accept skips the prompt (scripted installs); it requires User.
	Accept bool
	In     io.Reader
	Out    io.Writer
	Now    func() time.Time
}

// NewCmdAttest returns `attest`.
func NewCmdAttest(f *Factory, runF func(context.Context, *AttestOptions) error) *cobra.Command {
	opts := &AttestOptions{}
	cmd := &cobra.Command{
		Use:   "attest [--user NAME] [--accept]",
		Short: "Accept the yearly remote-access statement (Policy 550.04 C.7.a vi, vii, x, xi)",
		Long: `Show the yearly remote-access statement and record the user's acceptance.
The running agent sends it to the server, which requires one a year. --accept
skips the prompt for scripted installs and needs --user: use it only when the
user has accepted the same statement by other means.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Accept && opts.User == "" {
				return cmdutil.Usagef("--accept needs --user: name the user who accepted the statement")
			}
			opts.In, opts.Out, opts.Now = cmd.InOrStdin(), f.Out, f.Now
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			a, err := Attest(*opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Out, "statement %s accepted by %s; the agent sends it to the server at its next connection\n", a.StatementVersion, a.User)
			return nil
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	addAttestFlags(cmd, &opts.User, &opts.Accept, "user")
	return cmd
}

func addAttestFlags(cmd *cobra.Command, user *string, accept *bool, userFlag string) {
	cmd.Flags().StringVar(user, userFlag, "", "the `NAME` the user signs in to IBHIS with")
	cmd.Flags().BoolVar(accept, "accept", false, "accept without prompting (requires --"+userFlag+")")
}

// takeAttestation prompts (unless accept) and returns the wire attestation.
func takeAttestation(in io.Reader, out io.Writer, user string, accept bool, now time.Time) (*pb.Attestation, error) {
	if in == nil {
		in = strings.NewReader("")
	}
	if !accept {
		u, err := attest.Prompt(in, out, user)
		if err != nil {
			return nil, err
		}
		user = u
	}
	return attest.New(user, now)
}

// Attest takes the user's attestation and stores it as pending in the
// state directory, for the runner to send.
func Attest(opts AttestOptions) (state.AttestationInfo, error) {
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	dir, err := state.Open(opts.StateDir)
	if err != nil {
		return state.AttestationInfo{}, err
	}
	a, err := takeAttestation(opts.In, opts.Out, opts.User, opts.Accept, opts.Now())
	if err != nil {
		return state.AttestationInfo{}, err
	}
	info := attest.ToInfo(a)
	return info, dir.SetPendingAttestation(info)
}
