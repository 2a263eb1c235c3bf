//go:build windows

package browsercert

import (
	"crypto/x509"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/checks/consoleuser"
)

var (
	crypt32                           = windows.NewLazySystemDLL("crypt32.dll")
	procSetCertificateContextProperty = crypt32.NewProc("CertSetCertificateContextProperty")
)

const certKeyProvInfoPropID = 2 // CERT_KEY_PROV_INFO_PROP_ID

// cryptKeyProvInfo is CRYPT_KEY_PROV_INFO.
type cryptKeyProvInfo struct {
	ContainerName  *uint16
	ProvName       *uint16
	ProvType       uint32
	Flags          uint32
	ProvParamCount uint32
	ProvParam      uintptr
	KeySpec        uint32
}

// linkCNG puts the certificate into u's CurrentUser\My (the registry
// store under HKEY_USERS\<SID>, there while u is signed in), replacing
// the device's older ones, links it to the machine key container, and
// grants u the use of the key. Compiled only: this project has no
// Windows machine.
func linkCNG(u consoleuser.User, id Identity, container string) error {
	link, err := NewCNGLink(container)
	if err != nil {
		return err
	}
	sddl, err := KeyUseSDDL(u.ID)
	if err != nil {
		return err
	}
	store, closeStore, err := openUserMy(u.ID)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := deleteDeviceCerts(store, id.DeviceID); err != nil {
		return err
	}
	ctx, err := windows.CertCreateCertificateContext(windows.X509_ASN_ENCODING|windows.PKCS_7_ASN_ENCODING, &id.Cert.Raw[0], uint32(len(id.Cert.Raw)))
	if err != nil {
		return fmt.Errorf("certificate context: %w", err)
	}
	defer windows.CertFreeCertificateContext(ctx)
	var added *windows.CertContext
	if err := windows.CertAddCertificateContextToStore(store, ctx, windows.CERT_STORE_ADD_REPLACE_EXISTING, &added); err != nil {
		return fmt.Errorf("add the certificate to %s's store: %w", u.Name, err)
	}
	defer windows.CertFreeCertificateContext(added)
	container16, _ := windows.UTF16PtrFromString(link.Container)
	prov16, _ := windows.UTF16PtrFromString(link.Provider)
	info := cryptKeyProvInfo{ContainerName: container16, ProvName: prov16, ProvType: link.ProvType, Flags: link.Flags, KeySpec: link.KeySpec}
	if r, _, e := procSetCertificateContextProperty.Call(uintptr(unsafe.Pointer(added)), certKeyProvInfoPropID, 0, uintptr(unsafe.Pointer(&info))); r == 0 {
		return fmt.Errorf("link the certificate to the key (CERT_KEY_PROV_INFO): %w", e)
	}
	if err := devkey.GrantKeyUse(link.Container, sddl); err != nil {
		return fmt.Errorf("let %s use the device key: %w", u.Name, err)
	}
	return nil
}

// unlinkCNG removes the device's certificates from u's CurrentUser\My;
// a user not signed in (no hive loaded) has nothing to remove now.
func unlinkCNG(u consoleuser.User, deviceID string) error {
	store, closeStore, err := openUserMy(u.ID)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer closeStore()
	return deleteDeviceCerts(store, deviceID)
}

func openUserMy(sid string) (windows.Handle, func(), error) {
	k, _, err := registry.CreateKey(registry.USERS, UserMyStoreKey(sid), registry.ALL_ACCESS)
	if err != nil {
		return 0, nil, fmt.Errorf("open HKEY_USERS\\%s (is the user signed in?): %w", UserMyStoreKey(sid), err)
	}
	store, err := windows.CertOpenStore(windows.CERT_STORE_PROV_REG, 0, 0, 0, uintptr(k))
	if err != nil {
		k.Close()
		return 0, nil, fmt.Errorf("open the user's certificate store: %w", err)
	}
	return store, func() {
		windows.CertCloseStore(store, 0)
		k.Close()
	}, nil
}

// deleteDeviceCerts deletes every certificate in store issued to the
// device (subject CN = deviceID): older ones after a renewal.
func deleteDeviceCerts(store windows.Handle, deviceID string) error {
	var prev *windows.CertContext
	for {
		ctx, err := windows.CertEnumCertificatesInStore(store, prev)
		if err != nil || ctx == nil {
			return nil // the end of the store
		}
		der := unsafe.Slice(ctx.EncodedCert, ctx.Length)
		c, perr := x509.ParseCertificate(der)
		if perr == nil && c.Subject.CommonName == deviceID {
			// A duplicate is deleted (which frees it), so that ctx
			// stays valid to go on enumerating from.
			dup := windows.CertDuplicateCertificateContext(ctx)
			if err := windows.CertDeleteCertificateFromStore(dup); err != nil {
				windows.CertFreeCertificateContext(ctx)
				return fmt.Errorf("remove an older device certificate: %w", err)
			}
		}
		prev = ctx
	}
}
