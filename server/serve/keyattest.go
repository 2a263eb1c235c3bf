package serve

import (
	"fmt"
	"os"

	"github.com/postern-dev/postern/server/keyattest"
)

// loadKeyAttestation reads the trusted TPM EK CAs; no file trusts none.
func loadKeyAttestation(file string) (*keyattest.Verifier, error) {
	if file == "" {
		return keyattest.NewVerifier(nil)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tpm_ek_ca_file: %w", err)
	}
	v, err := keyattest.NewVerifier(b)
	if err != nil {
		return nil, fmt.Errorf("tpm_ek_ca_file %s: %w", file, err)
	}
	if !v.TrustsAny() {
		return nil, fmt.Errorf("tpm_ek_ca_file %s: no self-signed root CA certificate in it", file)
	}
	return v, nil
}
