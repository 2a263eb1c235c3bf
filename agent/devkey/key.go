package devkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
)

// Kind says where a device key lives.
type Kind string

// Kinds of device key, as `status --json`, reports and decisions name them.
const (
	// Hardware: made in and bound to a platform key store (TPM); the
	// private key cannot be copied off the machine.
	Hardware Kind = "hardware"
	// Software: a key file in the state directory, protected only by its
	// file permissions.
	Software Kind = "software"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Hardware || k == Software }

// Key is a device key: a signer whose private part may live outside
// the process.
type Key interface {
	crypto.Signer
	Kind() Kind
}

// SoftwareKey is a device key held in memory and saved as a PEM file.
type SoftwareKey struct {
	*ecdsa.PrivateKey
}

var _ Key = SoftwareKey{}

// Kind is Software.
func (SoftwareKey) Kind() Kind { return Software }

// NewSoftwareKey generates an ECDSA P-256 key on this device.
func NewSoftwareKey() (SoftwareKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return SoftwareKey{}, fmt.Errorf("generate device key: %w", err)
	}
	return SoftwareKey{k}, nil
}

// pemType is the PEM block type of a software key file.
const pemType = "EC PRIVATE KEY"

// EncodeSoftware returns the PEM file of a software key.
func EncodeSoftware(k SoftwareKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("encode device key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// DecodeSoftware parses a software key file.
func DecodeSoftware(b []byte) (SoftwareKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemType {
		return SoftwareKey{}, fmt.Errorf("no %s block", pemType)
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return SoftwareKey{}, err
	}
	return SoftwareKey{k}, nil
}

// CSR returns a PKCS#10 request (DER) signed by key. The server ignores
// the subject and sets CN to the device ID it assigns.
func CSR(key crypto.Signer) ([]byte, error) {
	return csrWith(rand.Reader, key)
}

func csrWith(r io.Reader, key crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(r, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "postern-device"},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	return der, nil
}
