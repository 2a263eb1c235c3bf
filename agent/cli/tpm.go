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

// openKeyStore opens the hardware key store: the TPM the flag or
// POSTERN_TPM names, or the platform's default (/dev/tpmrm0 on Linux,
// the Platform Crypto Provider on Windows). It returns nil without error
// when the agent is to use a software key: "off", or no key store at the
// default place. A TPM named explicitly that cannot be opened is an
// error, never a silent software key.
func openKeyStore(flag string) (devkey.Store, error) {
	path := flag
	if path == "" {
		path = os.Getenv(tpmEnv)
	}
	if path == TPMOff {
		return nil, nil
	}
	t, err := devkey.OpenStore(path)
	if errors.Is(err, devkey.ErrNoTPM) && path == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// storeForKey opens the key store when the state directory's device key
// is a hardware key, and fails saying so when it cannot: a hardware key
// has no software fallback. A software key needs no store (nil).
func storeForKey(stateDir, flag string) (devkey.Store, error) {
	dir, err := state.Open(stateDir)
	if err != nil {
		return nil, err
	}
	kind, err := dir.KeyKind()
	if err != nil || kind != devkey.Hardware {
		// Not enrolled, or a software key: the runner reports the former.
		return nil, nil
	}
	ks, err := openKeyStore(flag)
	if err != nil {
		return nil, fmt.Errorf("the device key is in a TPM: %w", err)
	}
	if ks == nil {
		return nil, state.ErrNoTPM
	}
	return ks, nil
}
