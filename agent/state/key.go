package state

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// NewKey generates a device key: ECDSA P-256, made on this device.
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	return k, nil
}

// CSR returns a PKCS#10 request (DER) for key. The server ignores the
// subject and sets CN to the device ID it assigns.
func CSR(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "postern-device"},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	return der, nil
}

// LoadKey reads the device key. On Unix it refuses a key file that group
// or others can read (ErrKeyPermissions).
func (d *Dir) LoadKey() (*ecdsa.PrivateKey, error) {
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(d.File(KeyFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load device key: %w", ErrNotEnrolled)
		}
		if err != nil {
			return nil, fmt.Errorf("load device key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("load device key: %s has mode %v: %w", d.File(KeyFile), fi.Mode().Perm(), ErrKeyPermissions)
		}
	}
	b, err := d.read(KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load device key: %w", ErrNotEnrolled)
	}
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("load device key: no EC PRIVATE KEY block: %w", ErrCorrupt)
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w: %v", ErrCorrupt, err)
	}
	return k, nil
}

func encodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode device key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (d *Dir) readCert(name string) (*x509.Certificate, error) {
	b, err := d.read(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", name, ErrNotEnrolled)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("read %s: no CERTIFICATE block: %w", name, ErrCorrupt)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w: %v", name, ErrCorrupt, err)
	}
	return c, nil
}
