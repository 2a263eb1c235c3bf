package pb

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// ALPN is the TLS application protocol both sides require on QUIC.
const ALPN = "postern/1"

// tokenPrefix marks version 1 of the enrollment token format:
// "pt1." + base64url(32-byte secret) + "." + base64url(SHA-256 of the CA's DER).
const tokenPrefix = "pt1."

// ErrMalformedToken is returned for a token that is not in the pt1 format.
var ErrMalformedToken = errors.New("malformed enrollment token")

// EnrollToken is a parsed enrollment token: a one-time secret and the pin of
// the device CA that the server's certificate must chain to.
type EnrollToken struct {
	Secret []byte
	CAPin  [sha256.Size]byte
}

// String formats the token as printed by `postern-server token create`.
func (t EnrollToken) String() string {
	enc := base64.RawURLEncoding
	return tokenPrefix + enc.EncodeToString(t.Secret) + "." + enc.EncodeToString(t.CAPin[:])
}

// ParseEnrollToken parses a token printed by `postern-server token create`.
func ParseEnrollToken(s string) (EnrollToken, error) {
	s = strings.TrimSpace(s)
	if len(s) > 256 || !strings.HasPrefix(s, tokenPrefix) {
		return EnrollToken{}, ErrMalformedToken
	}
	parts := strings.Split(strings.TrimPrefix(s, tokenPrefix), ".")
	if len(parts) != 2 {
		return EnrollToken{}, ErrMalformedToken
	}
	enc := base64.RawURLEncoding
	secret, err := enc.DecodeString(parts[0])
	if err != nil || len(secret) != 32 {
		return EnrollToken{}, ErrMalformedToken
	}
	pin, err := enc.DecodeString(parts[1])
	if err != nil || len(pin) != sha256.Size {
		return EnrollToken{}, ErrMalformedToken
	}
	t := EnrollToken{Secret: secret}
	copy(t.CAPin[:], pin)
	return t, nil
}
