//go:build !linux && !windows

package devkey

import "fmt"

// DefaultTPMPath is empty: the agent reaches no TPM 2.0 by path here.
const DefaultTPMPath = ""

// OpenTPM returns ErrNoTPM: the TPM path through go-attestation serves
// Linux only. macOS has no TPM, and its Secure Enclave makes only keys
// whose use goes through Security.framework, which needs cgo (see
// docs/identity-keys.md), so the agent keeps a software key there.
func OpenTPM(path string) (*TPM, error) {
	if path != "" {
		return nil, fmt.Errorf("open TPM %q: %w on this OS", path, ErrNoTPM)
	}
	return nil, ErrNoTPM
}

// OpenStore returns ErrNoTPM: no hardware key store on this OS (see
// OpenTPM).
func OpenStore(path string) (Store, error) {
	if _, err := OpenTPM(path); err != nil {
		return nil, err
	}
	return nil, ErrNoTPM
}
