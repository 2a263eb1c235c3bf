package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/state"
)

// TPMOff as --tpm makes the agent use a software key even where a TPM
// is present.
const TPMOff = "off"

// tpmEnv names the TPM when --tpm is not given.
const tpmEnv = "POSTERN_TPM"

func addTPMFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "tpm", "", "TPM 2.0 holding the device key: a device path or an swtpm socket (default $"+tpmEnv+", else "+orNone(devkey.DefaultTPMPath)+"; \"off\" for a software key)")
}

func orNone(s string) string {
	if s == "" {
		return "the platform's"
	}
	return s
}

// openTPM opens the TPM the flag or POSTERN_TPM names, or the default
// one. It returns nil without error when the agent is to use a software
// key: "off", or no TPM at the default place. A TPM named explicitly
// that cannot be opened is an error, never a silent software key.
func openTPM(flag string) (*devkey.TPM, error) {
	path := flag
	if path == "" {
		path = os.Getenv(tpmEnv)
	}
	if path == TPMOff {
		return nil, nil
	}
	t, err := devkey.OpenTPM(path)
	if errors.Is(err, devkey.ErrNoTPM) && path == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// tpmForKey opens the TPM when the state directory's device key is a
// hardware key, and fails saying so when it cannot: a hardware key has
// no software fallback. A software key needs no TPM (nil).
func tpmForKey(stateDir, flag string) (*devkey.TPM, error) {
	dir, err := state.Open(stateDir)
	if err != nil {
		return nil, err
	}
	kind, err := dir.KeyKind()
	if err != nil || kind != devkey.Hardware {
		// Not enrolled, or a software key: the runner reports the former.
		return nil, nil
	}
	tpm, err := openTPM(flag)
	if err != nil {
		return nil, fmt.Errorf("the device key is in a TPM: %w", err)
	}
	if tpm == nil {
		return nil, state.ErrNoTPM
	}
	return tpm, nil
}
