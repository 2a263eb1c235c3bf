package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/agent/spool"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
)

// StatusOptions are the flags of `status`.
type StatusOptions struct {
	StateDir string
	JSON     bool
}

// NewCmdStatus returns `status`.
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show this device's identity, last report and ack, and whether it may open IBHIS now (the server's decision)",
		Long: `Show this device's identity, last report and ack, and whether it may open
IBHIS now: the server's decision from its last ack, or the agent's own
estimate before the server sent one.

Exit status: 0 allowed, 1 blocked or not enrolled, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(f, opts)
		},
	}
	addStateFlag(cmd, &opts.StateDir)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

func statusRun(f *Factory, opts *StatusOptions) error {
	s, err := loadStatus(f, opts.StateDir)
	if err != nil {
		return err
	}
	s.Service = serviceState(f, opts.StateDir)
	if opts.JSON {
		err = s.WriteJSON(f.Out)
	} else {
		err = s.WriteText(f.Out, f.Color())
	}
	if err == nil && s.Blocked() {
		// Scripts (and the installer) can tell at a glance: 1 when the
		// device is not enrolled or may not open IBHIS now.
		return &exitError{code: ExitNotCompliant}
	}
	return err
}

func loadStatus(f *Factory, path string) (output.Status, error) {
	// Status only reads: it must not create the directory as a side effect.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return output.NewStatus(nil, state.State{}, 0, checks.DefaultPolicy(), f.Now()), nil
	} else if err != nil {
		return output.Status{}, fmt.Errorf("state dir: %w", err)
	}
	dir, err := state.Open(path)
	if err != nil {
		return output.Status{}, err
	}
	var idp *state.Identity
	id, err := dir.LoadIdentity()
	switch {
	case err == nil:
		idp = &id
	case !errors.Is(err, state.ErrNotEnrolled):
		return output.Status{}, err
	}
	st, err := dir.LoadState()
	if err != nil {
		return output.Status{}, err
	}
	p, err := dir.LoadPolicy()
	if err != nil {
		p = checks.DefaultPolicy()
	}
	sp, err := spool.Open(dir.File(state.SpoolDir), spool.Options{})
	if err != nil {
		return output.Status{}, err
	}
	n, err := sp.Len()
	if err != nil {
		return output.Status{}, err
	}
	s := output.NewStatus(idp, st, n, p, f.Now())
	if idp == nil {
		pe, err := dir.PendingEnrollment()
		if err != nil {
			return output.Status{}, err
		}
		es, _ := dir.EnrollStatus() // a damaged status file only hides progress
		s.Enrollment = output.NewEnrollmentStatus(pe, es)
	}
	if idp != nil {
		// What the server verified, and where the key is (from the
		// files present).
		s.Key = string(idp.VerifiedKeyKind())
		if k, err := dir.KeyKind(); err == nil {
			s.KeyStore = keyStoreName(k, runtime.GOOS)
			if !idp.KeyVerified.Valid() {
				s.Key = string(k)
			}
		}
		pa, err := dir.PendingAttestation()
		if err != nil {
			return output.Status{}, err
		}
		s.Attestation = output.NewAttestationStatus(st.LastAttestation, pa, f.Now())
	}
	return s, nil
}

// keyStoreName names where a key of kind k lives on goos.
func keyStoreName(k devkey.Kind, goos string) string {
	switch {
	case k == devkey.Software:
		return "file"
	case goos == "windows":
		return "platform_crypto_provider"
	default:
		return "tpm"
	}
}
