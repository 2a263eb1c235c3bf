package devkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The Windows key store: a non-exportable ECDSA P-256 key persisted by the
// Microsoft Platform Crypto Provider, which keeps it in the TPM (CNG,
// ncrypt.dll). The parts below are portable so that they are tested on
// every OS; the calls themselves are in cng_windows.go.

// PlatformCryptoProvider is the CNG key storage provider backed by the TPM.
const PlatformCryptoProvider = "Microsoft Platform Crypto Provider"

// cngRef is what the state directory keeps for a CNG key: which provider
// holds it and under what name. The key itself never leaves the provider.
type cngRef struct {
	Store    string `json:"store"`
	Provider string `json:"provider"`
	Name     string `json:"name"`
}

const cngStore = "cng"

func encodeCNGRef(name string) ([]byte, error) {
	if err := validCNGName(name); err != nil {
		return nil, err
	}
	return json.Marshal(cngRef{Store: cngStore, Provider: PlatformCryptoProvider, Name: name})
}

// decodeCNGRef parses a stored reference; anything else (a TPM blob, a
// reference to another provider) is refused.
func decodeCNGRef(b []byte) (cngRef, error) {
	var r cngRef
	if err := json.Unmarshal(b, &r); err != nil {
		return cngRef{}, fmt.Errorf("CNG key reference: %w", err)
	}
	if r.Store != cngStore || r.Provider != PlatformCryptoProvider {
		return cngRef{}, fmt.Errorf("CNG key reference: store %q provider %q is not the Platform Crypto Provider", r.Store, r.Provider)
	}
	if err := validCNGName(r.Name); err != nil {
		return cngRef{}, err
	}
	return r, nil
}

// validCNGName keeps key names to what the agent makes: "Postern-" and
// hex, so a tampered reference cannot name another program's key.
func validCNGName(name string) error {
	rest, ok := strings.CutPrefix(name, "Postern-device-")
	if !ok || len(rest) != 32 || strings.Trim(rest, "0123456789abcdef") != "" {
		return fmt.Errorf("CNG key name %q is not one the agent makes", name)
	}
	return nil
}

// BCRYPT_ECCKEY_BLOB magic of a P-256 ECDSA public key ("ECS1").
const eccPublicP256Magic = 0x31534345

// parseECCPublicBlob decodes NCryptExportKey's BCRYPT_ECCPUBLIC_BLOB of
// a P-256 key: magic, key size (32), X, Y, little-endian header.
func parseECCPublicBlob(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != 8+64 {
		return nil, fmt.Errorf("ECC public blob of %d bytes, want 72", len(b))
	}
	if m := binary.LittleEndian.Uint32(b[0:4]); m != eccPublicP256Magic {
		return nil, fmt.Errorf("ECC public blob magic %#x is not ECDSA P-256", m)
	}
	if n := binary.LittleEndian.Uint32(b[4:8]); n != 32 {
		return nil, fmt.Errorf("ECC public blob key size %d, want 32", n)
	}
	x, y := new(big.Int).SetBytes(b[8:40]), new(big.Int).SetBytes(b[40:72])
	if !elliptic.P256().IsOnCurve(x, y) {
		return nil, errors.New("ECC public blob: the point is not on P-256")
	}
	return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
}

// p1363ToASN1 turns NCryptSignHash's r||s into the ASN.1 form
// crypto.Signer callers (TLS, x509) expect.
func p1363ToASN1(sig []byte) ([]byte, error) {
	if len(sig) != 64 {
		return nil, fmt.Errorf("P-256 signature of %d bytes, want 64", len(sig))
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, errors.New("P-256 signature with a zero part")
	}
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}
