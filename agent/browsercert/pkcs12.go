package browsercert

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// exportPKCS12 returns the identity as a PKCS#12 file under a fresh
// random password, or ErrKeyNotExportable for a hardware key. The file
// carries the certificate without a friendly name: NSS then names it
// after its subject's common name, the device ID (see Nicknames).
func exportPKCS12(id Identity) (p12 []byte, password string, err error) {
	key, ok := id.Key.Exportable()
	if !ok {
		return nil, "", ErrKeyNotExportable
	}
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return nil, "", fmt.Errorf("pkcs12 password: %w", err)
	}
	password = hex.EncodeToString(pw[:])
	p12, err = pkcs12.Modern.Encode(key, id.Cert, nil, password)
	if err != nil {
		return nil, "", fmt.Errorf("encode pkcs12: %w", err)
	}
	return p12, password, nil
}
