package devkey

import "fmt"

// DefaultTPMPath is empty on Windows: keys go to the TPM through CNG's
// Platform Crypto Provider, not through a device path.
const DefaultTPMPath = ""

// OpenTPM refuses: on Windows the agent reaches the TPM through CNG
// (OpenStore), and go-attestation makes no application keys there.
func OpenTPM(path string) (*TPM, error) {
	return nil, fmt.Errorf("open TPM %q: on Windows the key store is the %s: %w", path, PlatformCryptoProvider, ErrNoTPM)
}

// OpenStore opens the Platform Crypto Provider. --tpm takes no path
// here: swtpm is a Linux test fixture.
func OpenStore(path string) (Store, error) {
	if path != "" {
		return nil, fmt.Errorf("--tpm %q: Windows reaches its TPM through the %s; give no path", path, PlatformCryptoProvider)
	}
	c, err := OpenCNG()
	if err != nil {
		return nil, err
	}
	return c, nil
}
