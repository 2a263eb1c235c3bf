package browsercert

import (
	"fmt"
	"strings"
)

// A hardware device key on Windows is a machine key of the Platform
// Crypto Provider, which only the service's account can use until its
// DACL says otherwise. Placing it for a user's browser is then two
// things the service (SYSTEM) does without any key material leaving the
// TPM: the certificate goes into the user's CurrentUser\My store (the
// registry store under HKEY_USERS\<SID>, loaded while the user is signed
// in) with a CERT_KEY_PROV_INFO property naming the provider and the key
// container, and the key's DACL grants that user read (use). Edge and
// Chrome then find the certificate with its key, as they find a smart
// card's. Compiled only (cnglink_windows.go); the plan below is
// unit-tested on Linux.

// CNGLink is what the certificate's CERT_KEY_PROV_INFO property says.
type CNGLink struct {
	// Container is the key's name in the provider.
	Container string
	// Provider is the CNG key storage provider.
	Provider string
	// ProvType 0 says the provider is a CNG one (not CryptoAPI).
	ProvType uint32
	// Flags is NCRYPT_MACHINE_KEY_FLAG: a machine key, not the user's.
	Flags uint32
	// KeySpec 0: CNG keys have no CryptoAPI key spec.
	KeySpec uint32
}

const ncryptMachineKeyFlag = 0x20

// PlatformCryptoProvider is the provider that holds the key in the TPM
// (devkey.PlatformCryptoProvider).
const PlatformCryptoProvider = "Microsoft Platform Crypto Provider"

// NewCNGLink returns the link to the machine key container.
func NewCNGLink(container string) (CNGLink, error) {
	rest, ok := strings.CutPrefix(container, "Postern-device-")
	if !ok || len(rest) != 32 || strings.Trim(rest, "0123456789abcdef") != "" {
		return CNGLink{}, fmt.Errorf("CNG key container %q is not one the agent makes", container)
	}
	return CNGLink{Container: container, Provider: PlatformCryptoProvider, Flags: ncryptMachineKeyFlag}, nil
}

// UserMyStoreKey is the registry key, under HKEY_USERS, of the user's
// CurrentUser\My certificate store.
func UserMyStoreKey(sid string) string {
	return sid + `\Software\Microsoft\SystemCertificates\My`
}

// KeyUseSDDL is the key's DACL once it is placed for the user with this
// SID: SYSTEM and the Administrators full control (the agent's service
// manages it), the user read, which lets the user sign with it and
// nothing else; protected, so nothing inherited widens it.
func KeyUseSDDL(sid string) (string, error) {
	if !strings.HasPrefix(sid, "S-1-5-21-") || strings.Trim(sid[len("S-1-5-21-"):], "0123456789-") != "" {
		return "", fmt.Errorf("user SID %q: want a domain or local account's SID (S-1-5-21-...)", sid)
	}
	return "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;" + sid + ")", nil
}
