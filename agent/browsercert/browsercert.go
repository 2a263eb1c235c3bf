package browsercert

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/postern-dev/postern/checks/consoleuser"
	pb "github.com/postern-dev/postern/proto"
)

// ErrKeyNotExportable: the device key lives in hardware (TPM, CNG
// Platform Crypto Provider, Secure Enclave) and this store can only take
// a copy of a key.
var ErrKeyNotExportable = errors.New("the device key cannot be exported into this store")

// ErrNoGateway: the server sent no gateway URL at enrollment, so no
// browser policy can name it.
var ErrNoGateway = errors.New("the server configured no gateway URL")

// Key is the device's private key as the placement sees it.
type Key interface {
	// Signer is the key; for a hardware key its operations go to the
	// hardware.
	crypto.Signer
	// Exportable returns the private key itself when it may be copied
	// into the user's store (a software key), and false otherwise.
	Exportable() (crypto.PrivateKey, bool)
	// Reference names a hardware key for stores that can use it in place
	// (a CNG provider and key name on Windows, a PKCS#11 URI on Linux, a
	// keychain label on macOS); empty for a software key.
	Reference() string
}

// SoftwareKey is a key held in a file in the agent's state directory.
type SoftwareKey struct{ crypto.Signer }

// Exportable returns the key: a file key may be copied into the user's
// store.
func (k SoftwareKey) Exportable() (crypto.PrivateKey, bool) { return k.Signer, true }

// Reference is empty for a software key.
func (k SoftwareKey) Reference() string { return "" }

// Identity is what is placed: the device certificate, its key and the
// gateway it is for.
type Identity struct {
	DeviceID string
	Cert     *x509.Certificate
	Key      Key
	// GatewayURL is the gateway's https origin from the enrollment; the
	// policies name it. Empty means no policy is written.
	GatewayURL string
}

// Validate checks that the identity can be placed: the certificate is
// the device's and for the key, and the gateway URL is an https origin.
func (id Identity) Validate() error {
	if id.Cert == nil || id.Key == nil {
		return errors.New("identity: certificate or key missing")
	}
	if id.Cert.Subject.CommonName != id.DeviceID || id.DeviceID == "" {
		return fmt.Errorf("identity: certificate names %q, not device %q", id.Cert.Subject.CommonName, id.DeviceID)
	}
	pub, ok := id.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(id.Cert.PublicKey) {
		return errors.New("identity: the certificate is not for the device key")
	}
	if err := pb.ValidateGatewayURL(id.GatewayURL); err != nil {
		return fmt.Errorf("identity: gateway URL: %w", err)
	}
	return nil
}

// Store is one OS's place for the user's certificate.
type Store interface {
	// Place puts the identity into u's store, replacing any certificate
	// the device had there before (after a renewal).
	Place(ctx context.Context, u consoleuser.User, id Identity) error
	// Remove takes the device's certificate and key out of u's store; a
	// store that holds none is not an error.
	Remove(ctx context.Context, u consoleuser.User, deviceID string) error
}

// Policies writes and removes the browsers' managed policies that select
// the device certificate for the gateway.
type Policies interface {
	Write(ctx context.Context, gatewayURL, issuerCN string) error
	Remove(ctx context.Context) error
}
