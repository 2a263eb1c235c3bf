package state

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/postern-dev/postern/agent/devkey"
)

// NewKey generates a software device key: ECDSA P-256, made on this
// device. Enrollment prefers a TPM key (package agent/devkey).
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := devkey.NewSoftwareKey()
	if err != nil {
		return nil, err
	}
	return k.PrivateKey, nil
}

// CSR returns a PKCS#10 request (DER) signed by key.
func CSR(key crypto.Signer) ([]byte, error) {
	return devkey.CSR(key)
}

// UseKeyStore gives the directory the key store (TPM, Platform Crypto
// Provider) that holds a hardware device key. Keys it loads stay loaded
// until the store is closed.
func (d *Dir) UseKeyStore(s devkey.Store) {
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	d.store, d.hwKey = s, nil
}

// KeyKind says where the enrolled device key lives, from the files
// present: a TPM blob is hardware, a PEM key file software.
func (d *Dir) KeyKind() (devkey.Kind, error) {
	hw, err := d.exists(TPMKeyFile)
	if err != nil {
		return "", fmt.Errorf("check device key: %w", err)
	}
	if hw {
		return devkey.Hardware, nil
	}
	sw, err := d.exists(KeyFile)
	if err != nil {
		return "", fmt.Errorf("check device key: %w", err)
	}
	if sw {
		return devkey.Software, nil
	}
	return "", fmt.Errorf("load device key: %w", ErrNotEnrolled)
}

// LoadKey returns the device key: the TPM key when the state directory
// holds a TPM blob (ErrNoTPM unless UseTPM gave the TPM), else the
// software key file. On Unix it refuses a key file that group or others
// can read (ErrKeyPermissions).
func (d *Dir) LoadKey() (devkey.Key, error) {
	kind, err := d.KeyKind()
	if err != nil {
		return nil, err
	}
	if kind == devkey.Hardware {
		return d.loadHardwareKey()
	}
	if err := d.checkPrivate(KeyFile); err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	b, err := d.read(KeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load device key: %w", ErrNotEnrolled)
	}
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	k, err := devkey.DecodeSoftware(b)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w: %v", ErrCorrupt, err)
	}
	return k, nil
}

func (d *Dir) loadHardwareKey() (devkey.Key, error) {
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	if d.hwKey != nil {
		return d.hwKey, nil
	}
	if d.store == nil {
		return nil, fmt.Errorf("load device key: %w", ErrNoTPM)
	}
	if err := d.checkPrivate(TPMKeyFile); err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	b, err := d.read(TPMKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	k, err := d.store.Load(b)
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	d.hwKey = k
	return k, nil
}

// checkPrivate refuses, on Unix, a key file group or others can read.
func (d *Dir) checkPrivate(name string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(d.File(name))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotEnrolled
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %v: %w", d.File(name), fi.Mode().Perm(), ErrKeyPermissions)
	}
	return nil
}

// keyFile returns what is saved for key, and under which name.
func keyFile(key devkey.Key) (string, []byte, error) {
	switch k := key.(type) {
	case devkey.SoftwareKey:
		b, err := devkey.EncodeSoftware(k)
		return KeyFile, b, err
	case interface{ Blob() ([]byte, error) }:
		b, err := k.Blob()
		return TPMKeyFile, b, err
	}
	return "", nil, fmt.Errorf("save device key: %T cannot be stored", key)
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
