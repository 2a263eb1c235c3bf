package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// MaxCSRSize bounds a certificate request accepted from a device.
const MaxCSRSize = 16 << 10

// ErrBadCSR is returned for a certificate request that cannot be signed:
// malformed, with a bad signature, or for a key type or size not accepted.
var ErrBadCSR = errors.New("unacceptable certificate request")

// SignCSR issues a device certificate for the key in the DER-encoded csr:
// subject CN = deviceID, client authentication only, valid from now until
// notAfter (capped at the CA's own expiry). The CSR's signature is checked,
// its requested names and extensions are ignored, and only ECDSA P-256,
// Ed25519 and RSA keys of at least 2048 bits are accepted.
func (c *CA) SignCSR(csrDER []byte, deviceID string, now, notAfter time.Time) (*x509.Certificate, error) {
	if len(csrDER) == 0 || len(csrDER) > MaxCSRSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadCSR, len(csrDER))
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrBadCSR, err)
	}
	if err := acceptableKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if deviceID == "" || len(deviceID) > 64 {
		return nil, fmt.Errorf("sign device certificate: bad device id %q", deviceID)
	}
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	if !notAfter.After(now) {
		return nil, errors.New("sign device certificate: not-after is not in the future")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: deviceID},
		NotBefore:    now.Add(-5 * time.Minute), // tolerate small clock skew on the device
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, csr.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign device certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse device certificate: %w", err)
	}
	return cert, nil
}

func acceptableKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: ECDSA curve %s, want P-256", ErrBadCSR, k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits, want at least 2048", ErrBadCSR, k.N.BitLen())
		}
	default:
		return fmt.Errorf("%w: key type %T", ErrBadCSR, pub)
	}
	return nil
}

// Fingerprint returns the lowercase hex SHA-256 of a certificate's DER, the
// device's cert_sha256 identity.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
