package users

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern-dev/postern/internal/dirowner"
	"github.com/postern-dev/postern/server/store"
)

// MFAKeyFile is the file in the data directory, beside ca.key and
// audit.key, holding the key that seals TOTP secrets in the database: a
// copy of the database alone does not give anyone the codes.
const MFAKeyFile = "mfa.key"

// mfaKeySize is an AES-256 key.
const mfaKeySize = 32

// ErrNoMFAKey is returned by TOTP enrolment and checks when the Service
// has no key to seal secrets with.
var ErrNoMFAKey = errors.New("no MFA key (mfa.key in the data directory): TOTP is unavailable")

// LoadOrCreateMFAKey reads dataDir's MFA key, creating it (mode 0600) if
// there is none. A key file others may read is refused, as audit.key is.
// Every replica sharing a database needs the same file.
func LoadOrCreateMFAKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, MFAKeyFile)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, mfaKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("make mfa key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			// Another process made it first: use theirs.
			return LoadOrCreateMFAKey(dataDir)
		}
		if err != nil {
			return nil, fmt.Errorf("create mfa key: %w", err)
		}
		_, werr := f.Write([]byte(base64.StdEncoding.EncodeToString(key) + "\n"))
		if err := errors.Join(werr, dirowner.Match(f, dataDir), f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("write mfa key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read mfa key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read mfa key: %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mfa key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != mfaKeySize {
		return nil, fmt.Errorf("read mfa key: %s does not hold a base64 %d-byte key", path, mfaKeySize)
	}
	return key, nil
}

// CheckMFAKey makes sure key opens the TOTP secrets st already holds: a
// replica started without the first server's mfa.key (which then made
// its own), or with another, would refuse every code. nil when there are
// none yet.
func CheckMFAKey(ctx context.Context, st MFAStore, key []byte) error {
	user, sealed, err := st.SealedTOTPSample(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := newSealer(key)
	if err != nil {
		return err
	}
	if _, err := s.open(user, sealed); err != nil {
		return fmt.Errorf("%s does not open the TOTP secrets in the database (another server's key?): copy mfa.key from the server that made them: %w", MFAKeyFile, err)
	}
	return nil
}

// sealer encrypts TOTP secrets with AES-256-GCM; the account name is the
// additional data, so that a sealed secret copied to another account's
// row does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != mfaKeySize {
		return nil, fmt.Errorf("mfa key: %d bytes, want %d", len(key), mfaKeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(username, plain string) (string, error) {
	if s == nil {
		return "", ErrNoMFAKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte("postern-totp:"+username))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out), nil
}

func (s *sealer) open(username, sealed string) (string, error) {
	if s == nil {
		return "", ErrNoMFAKey
	}
	const prefix = "v1:"
	if len(sealed) < len(prefix) || sealed[:len(prefix)] != prefix {
		return "", errors.New("open totp secret: unknown format")
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(prefix):])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("open totp secret: malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte("postern-totp:"+username))
	if err != nil {
		return "", errors.New("open totp secret: it does not open with this mfa.key (another server's key, or altered)")
	}
	return string(plain), nil
}
