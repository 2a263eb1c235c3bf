//go:build windows

package devkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// CNG calls, from ncrypt.dll. Compiled and vetted here; run only on
// Windows, which this project's CI does not have.
var (
	ncrypt                     = windows.NewLazySystemDLL("ncrypt.dll")
	procOpenStorageProvider    = ncrypt.NewProc("NCryptOpenStorageProvider")
	procCreatePersistedKey     = ncrypt.NewProc("NCryptCreatePersistedKey")
	procSetProperty            = ncrypt.NewProc("NCryptSetProperty")
	procFinalizeKey            = ncrypt.NewProc("NCryptFinalizeKey")
	procOpenKey                = ncrypt.NewProc("NCryptOpenKey")
	procExportKey              = ncrypt.NewProc("NCryptExportKey")
	procSignHash               = ncrypt.NewProc("NCryptSignHash")
	procFreeObject             = ncrypt.NewProc("NCryptFreeObject")
	procDeleteKey              = ncrypt.NewProc("NCryptDeleteKey")
	errNoNCrypt                = fmt.Errorf("ncrypt.dll: %w", ErrNoTPM)
	ncryptMachineKeyFlag       = uintptr(0x20)       // NCRYPT_MACHINE_KEY_FLAG: the service's key, not a user's
	ncryptPersistFlag          = uintptr(0x80000000) // NCRYPT_PERSIST_FLAG
	ncryptAlgECDSAP256         = "ECDSA_P256"
	ncryptExportPolicyProperty = "Export Policy"
	bcryptECCPublicBlob        = "ECCPUBLICBLOB"
)

// SECURITY_STATUS codes of a provider without a usable TPM.
const (
	nteNotSupported   = 0x80090029 // NTE_NOT_SUPPORTED
	nteDeviceNotReady = 0x80090030 // NTE_DEVICE_NOT_READY
)

func utf16(s string) uintptr {
	p, _ := windows.UTF16PtrFromString(s)
	return uintptr(unsafe.Pointer(p))
}

func status(op string, r uintptr) error {
	if r != 0 {
		return fmt.Errorf("%s: SECURITY_STATUS %#x", op, uint32(r))
	}
	return nil
}

// CNG is the Platform Crypto Provider: keys made there live in the TPM
// and are not exportable.
type CNG struct {
	mu   sync.Mutex
	prov uintptr
}

// OpenCNG opens the Platform Crypto Provider; a machine without a usable
// TPM gets an error wrapping ErrNoTPM.
func OpenCNG() (*CNG, error) {
	if err := procOpenStorageProvider.Find(); err != nil {
		return nil, errNoNCrypt
	}
	var h uintptr
	r, _, _ := procOpenStorageProvider.Call(uintptr(unsafe.Pointer(&h)), utf16(PlatformCryptoProvider), 0)
	if err := status("NCryptOpenStorageProvider", r); err != nil {
		return nil, fmt.Errorf("open %s: %v: %w", PlatformCryptoProvider, err, ErrNoTPM)
	}
	return &CNG{prov: h}, nil
}

// Close releases the provider.
func (c *CNG) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, _ := procFreeObject.Call(c.prov)
	return status("NCryptFreeObject", r)
}

// Create makes a persisted, non-exportable ECDSA P-256 key and returns
// it with the reference the state directory keeps.
func (c *CNG) Create() (Key, []byte, error) {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, nil, err
	}
	name := "Postern-device-" + hex.EncodeToString(rnd[:])
	ref, err := encodeCNGRef(name)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var h uintptr
	r, _, _ := procCreatePersistedKey.Call(c.prov, uintptr(unsafe.Pointer(&h)), utf16(ncryptAlgECDSAP256), utf16(name), 0, ncryptMachineKeyFlag)
	if err := status("NCryptCreatePersistedKey", r); err != nil {
		if code := uint32(r); code == nteNotSupported || code == nteDeviceNotReady {
			// A provider that opens but makes no keys (Wine's ncrypt,
			// a TPM switched off) is no usable TPM.
			return nil, nil, fmt.Errorf("%v: %w", err, ErrNoTPM)
		}
		return nil, nil, err
	}
	fail := func(err error) (Key, []byte, error) {
		procDeleteKey.Call(h, 0)
		return nil, nil, err
	}
	// Export policy 0: no export at all, not even wrapped. The Platform
	// Crypto Provider's default, set so that it does not depend on it.
	var policy uint32
	r, _, _ = procSetProperty.Call(h, utf16(ncryptExportPolicyProperty), uintptr(unsafe.Pointer(&policy)), 4, ncryptPersistFlag)
	if err := status("NCryptSetProperty(Export Policy)", r); err != nil {
		return fail(err)
	}
	r, _, _ = procFinalizeKey.Call(h, 0)
	if err := status("NCryptFinalizeKey", r); err != nil {
		return fail(err)
	}
	pub, err := exportPublic(h)
	if err != nil {
		return fail(err)
	}
	return &CNGKey{c: c, h: h, pub: pub, ref: ref}, ref, nil
}

// Load opens the key a reference names.
func (c *CNG) Load(blob []byte) (Key, error) {
	ref, err := decodeCNGRef(blob)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var h uintptr
	r, _, _ := procOpenKey.Call(c.prov, uintptr(unsafe.Pointer(&h)), utf16(ref.Name), 0, ncryptMachineKeyFlag)
	if err := status("NCryptOpenKey "+ref.Name, r); err != nil {
		return nil, fmt.Errorf("load the device key (a key of another machine cannot be opened): %w", err)
	}
	pub, err := exportPublic(h)
	if err != nil {
		procFreeObject.Call(h)
		return nil, err
	}
	return &CNGKey{c: c, h: h, pub: pub, ref: append([]byte(nil), blob...)}, nil
}

func exportPublic(h uintptr) (*ecdsa.PublicKey, error) {
	var size uint32
	r, _, _ := procExportKey.Call(h, 0, utf16(bcryptECCPublicBlob), 0, 0, 0, uintptr(unsafe.Pointer(&size)), 0)
	if err := status("NCryptExportKey(size)", r); err != nil {
		return nil, err
	}
	if size == 0 || size > 1024 {
		return nil, fmt.Errorf("NCryptExportKey: public blob of %d bytes", size)
	}
	b := make([]byte, size)
	r, _, _ = procExportKey.Call(h, 0, utf16(bcryptECCPublicBlob), 0, uintptr(unsafe.Pointer(&b[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), 0)
	if err := status("NCryptExportKey", r); err != nil {
		return nil, err
	}
	return parseECCPublicBlob(b[:size])
}

var (
	_ Store   = (*CNG)(nil)
	_ Creator = (*CNG)(nil)
)

// CNGKey is a device key held by the Platform Crypto Provider.
type CNGKey struct {
	c   *CNG
	h   uintptr
	pub *ecdsa.PublicKey
	ref []byte
}

var _ Key = (*CNGKey)(nil)

// Kind is Hardware: the provider keeps the key in the TPM.
func (*CNGKey) Kind() Kind { return Hardware }

// Public returns the key's public half.
func (k *CNGKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest in the provider.
func (k *CNGKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	if len(digest) == 0 {
		return nil, fmt.Errorf("sign: empty digest")
	}
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	var size uint32
	r, _, _ := procSignHash.Call(k.h, 0, uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), 0, 0, uintptr(unsafe.Pointer(&size)), 0)
	if err := status("NCryptSignHash(size)", r); err != nil {
		return nil, err
	}
	if size == 0 || size > 256 {
		return nil, fmt.Errorf("NCryptSignHash: signature of %d bytes", size)
	}
	sig := make([]byte, size)
	r, _, _ = procSignHash.Call(k.h, 0, uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), uintptr(unsafe.Pointer(&sig[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), 0)
	if err := status("NCryptSignHash", r); err != nil {
		return nil, err
	}
	return p1363ToASN1(sig[:size])
}

// Blob is the reference the state directory keeps.
func (k *CNGKey) Blob() ([]byte, error) { return k.ref, nil }

// Reference names the key for stores that use it in place: its
// container name in the Platform Crypto Provider (a machine key).
func (k *CNGKey) Reference() string {
	r, err := decodeCNGRef(k.ref)
	if err != nil {
		return ""
	}
	return r.Name
}

// ncryptSecurityDescrProperty is NCRYPT_SECURITY_DESCR_PROPERTY; set with
// DACL_SECURITY_INFORMATION as flags, it replaces the key's DACL.
const ncryptSecurityDescrProperty = "Security Descr"

// GrantKeyUse replaces the DACL of the machine key name with sddl
// (KeyUseSDDL: SYSTEM and Administrators full, the console user read,
// which is use), so that a browser in the user's session can sign with
// the key a certificate in CurrentUser\My links to. Compiled only.
func GrantKeyUse(name, sddl string) error {
	if err := validCNGName(name); err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("key security descriptor %q: %w", sddl, err)
	}
	c, err := OpenCNG()
	if err != nil {
		return err
	}
	defer c.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	var h uintptr
	r, _, _ := procOpenKey.Call(c.prov, uintptr(unsafe.Pointer(&h)), utf16(name), 0, ncryptMachineKeyFlag)
	if err := status("NCryptOpenKey "+name, r); err != nil {
		return err
	}
	defer procFreeObject.Call(h)
	r, _, _ = procSetProperty.Call(h, utf16(ncryptSecurityDescrProperty), uintptr(unsafe.Pointer(sd)), uintptr(sd.Length()), uintptr(windows.DACL_SECURITY_INFORMATION))
	return status("NCryptSetProperty(Security Descr)", r)
}
