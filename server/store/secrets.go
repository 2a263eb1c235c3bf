package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	pb "github.com/postern-dev/postern/proto"
)

// DefaultTokenTTL is how long an enrollment token stays valid by default.
const DefaultTokenTTL = 72 * time.Hour

// Bounds on the labels an enrollment token carries to its device.
const MaxLabelLen = 128

// HashSecret returns the hex SHA-256 of a secret, the form stored at rest.
func HashSecret(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// NewEnrollToken makes a one-time enrollment token pinning the CA with
// caPin. It returns the token to print and the record to store.
func NewEnrollToken(caPin [sha256.Size]byte, ttl time.Duration, org, owner string, now time.Time) (string, Token, error) {
	if ttl <= 0 || ttl > 365*24*time.Hour {
		return "", Token{}, fmt.Errorf("token lifetime %v: must be between 1s and 8760h", ttl)
	}
	if len(org) > MaxLabelLen || len(owner) > MaxLabelLen {
		return "", Token{}, fmt.Errorf("org and owner must be at most %d bytes", MaxLabelLen)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, fmt.Errorf("generate token: %w", err)
	}
	tok := pb.EnrollToken{Secret: secret, CAPin: caPin}
	rec := Token{Hash: HashSecret(secret), CreatedAt: now, ExpiresAt: now.Add(ttl), Org: org, Owner: owner}
	return tok.String(), rec, nil
}

// apiKeyPrefix starts every API key: "pk_" + 16 hex characters of key ID +
// "_" + base64url(32-byte secret). The ID lets the server find the key
// without comparing secrets in a database index.
const apiKeyPrefix = "pk_"

// MaxAPIKeyNameLen bounds an API key's name.
const MaxAPIKeyNameLen = 128

// NewAPIKey makes an API key named name with the gateway's scopes
// (GatewayScopes); the caller may set other scopes, an owner and an
// expiry before storing it. It returns the key to print and the record
// to store.
func NewAPIKey(name string, now time.Time) (string, APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxAPIKeyNameLen {
		return "", APIKey{}, fmt.Errorf("api key name must be 1 to %d bytes", MaxAPIKeyNameLen)
	}
	buf := make([]byte, 8+32)
	if _, err := rand.Read(buf); err != nil {
		return "", APIKey{}, fmt.Errorf("generate api key: %w", err)
	}
	id, secret := hex.EncodeToString(buf[:8]), buf[8:]
	key := apiKeyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret)
	return key, APIKey{ID: id, Name: name, Hash: HashSecret(secret), Scopes: slices.Clone(GatewayScopes), CreatedAt: now}, nil
}

// ParseAPIKey splits a presented API key into its ID and the hash of its
// secret; ok is false when the key is not in the pk_ format.
func ParseAPIKey(key string) (id, hash string, ok bool) {
	if len(key) > 128 || !strings.HasPrefix(key, apiKeyPrefix) {
		return "", "", false
	}
	rest := key[len(apiKeyPrefix):]
	if len(rest) < 17 || rest[16] != '_' {
		return "", "", false
	}
	id = rest[:16]
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	secret, err := base64.RawURLEncoding.DecodeString(rest[17:])
	if err != nil || len(secret) != 32 {
		return "", "", false
	}
	return id, HashSecret(secret), true
}

// HashesEqual compares two stored-form hashes in constant time.
func HashesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
