package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/postern-dev/postern/internal/dirowner"
	"github.com/postern-dev/postern/server/store"
)

// KeyFile is the audit key's file name in the data directory, beside
// ca.key. It never enters the database: whoever can rewrite the database
// but not read this file cannot forge a row or a checkpoint.
const KeyFile = "audit.key"

// Key is one audit key: rows from FromSeq on (until the next key's
// FromSeq) are authenticated with HMAC-SHA256 under Secret, and
// checkpoints made with it are signed with an Ed25519 key derived from
// Secret, whose public half is PublicKey.
type Key struct {
	ID        string    `json:"id"`
	FromSeq   uint64    `json:"from_seq"`
	CreatedAt time.Time `json:"created_at"`
	Secret    []byte    `json:"secret"`
}

// Keyring is every audit key a data directory has had, oldest first; old
// keys stay to verify the rows they authenticated.
type Keyring struct {
	Keys []Key `json:"keys"`
}

// ErrNoKey is returned when a data directory has no audit key.
var ErrNoKey = errors.New("no audit key")

func newKey(fromSeq uint64, now time.Time) (Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("make audit key: %w", err)
	}
	k := Key{FromSeq: fromSeq, CreatedAt: now.UTC().Truncate(time.Second), Secret: secret}
	sum := sha256.Sum256(k.PublicKey())
	k.ID = hex.EncodeToString(sum[:6])
	return k, nil
}

// signer derives the checkpoint signing key, so that one secret file
// holds both and the public key can be handed to auditors.
func (k Key) signer() ed25519.PrivateKey {
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte("postern-audit-checkpoint-signing-key"))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// PublicKey is the checkpoint-verifying key.
func (k Key) PublicKey() ed25519.PublicKey { return k.signer().Public().(ed25519.PublicKey) }

// keyFor returns the key that authenticates row seq, or nil for a row
// older than every key (written before the chain was keyed).
func (kr *Keyring) keyFor(seq uint64) *Key {
	if kr == nil {
		return nil
	}
	for i := len(kr.Keys) - 1; i >= 0; i-- {
		if seq >= kr.Keys[i].FromSeq {
			return &kr.Keys[i]
		}
	}
	return nil
}

func (kr *Keyring) byID(id string) *Key {
	if kr == nil {
		return nil
	}
	for i := range kr.Keys {
		if kr.Keys[i].ID == id {
			return &kr.Keys[i]
		}
	}
	return nil
}

// Current is the key new rows are authenticated with.
func (kr *Keyring) Current() *Key {
	if kr == nil || len(kr.Keys) == 0 {
		return nil
	}
	return &kr.Keys[len(kr.Keys)-1]
}

// KeyPath is the audit key's path in dataDir.
func KeyPath(dataDir string) string { return filepath.Join(dataDir, KeyFile) }

// LoadKeyring reads dataDir's audit key file; ErrNoKey when there is none.
// A file that others may read is refused: it would let them forge rows.
func LoadKeyring(dataDir string) (*Keyring, error) {
	path := KeyPath(dataDir)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoKey, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("read audit key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read audit key: %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit key: %w", err)
	}
	var kr Keyring
	if err := json.Unmarshal(b, &kr); err != nil {
		return nil, fmt.Errorf("read audit key %s: %w", path, err)
	}
	if len(kr.Keys) == 0 {
		return nil, fmt.Errorf("read audit key %s: no keys", path)
	}
	for i, k := range kr.Keys {
		if len(k.Secret) != 32 || k.ID == "" || (i > 0 && k.FromSeq <= kr.Keys[i-1].FromSeq) {
			return nil, fmt.Errorf("read audit key %s: key %d is malformed", path, i+1)
		}
	}
	return &kr, nil
}

func (kr *Keyring) save(dataDir string) error {
	b, err := json.MarshalIndent(kr, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dataDir, KeyFile+".tmp*")
	if err != nil {
		return fmt.Errorf("write audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write audit key: %w", err)
	}
	if err := dirowner.Match(tmp, dataDir); err != nil {
		tmp.Close()
		return fmt.Errorf("write audit key: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write audit key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write audit key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write audit key: %w", err)
	}
	if err := os.Rename(tmp.Name(), KeyPath(dataDir)); err != nil {
		return fmt.Errorf("write audit key: %w", err)
	}
	return nil
}

// keyMarkerDetails is what the row that starts a key says about it, so
// that another replica without the key file refuses to start instead of
// writing rows no one can verify.
type keyMarkerDetails struct {
	KeyID     string `json:"key_id"`
	FromSeq   uint64 `json:"from_seq"`
	PublicKey string `json:"public_key"`
}

// KindAuditKey marks the row from which a new audit key authenticates the
// chain (the first key, or a rotation).
const KindAuditKey = "audit_key_started"

// Keyed returns l authenticating new rows, and verifying old ones, with kr.
func (l *Log) Keyed(kr *Keyring) *Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = kr
	return l
}

// Keys returns the keyring in use, nil when the log is not keyed.
func (l *Log) Keys() *Keyring { return l.keys }

// OpenKeyed loads dataDir's audit key into l. When there is none yet it
// creates one that authenticates every row from the next on, and records
// that in the chain (the upgrade of an unkeyed chain: older rows stay
// verifiable by their plain hashes, and the next checkpoint anchors them).
// A chain already keyed elsewhere (another replica made the key) is not
// given a second key: copy audit.key as you copy ca.key.
func (l *Log) OpenKeyed(ctx context.Context, dataDir string) error {
	kr, err := LoadKeyring(dataDir)
	if err == nil {
		l.Keyed(kr)
		return nil
	}
	if !errors.Is(err, ErrNoKey) {
		return err
	}
	if seq, ok, err := l.keyedSince(ctx); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w in %s, but the audit log has been keyed since row %d by another server: copy %s from it (as ca.key)",
			ErrNoKey, dataDir, seq, KeyFile)
	}
	k, err := newKey(0, l.now())
	if err != nil {
		return err
	}
	kr = &Keyring{Keys: []Key{k}}
	// The marker is written first, with the key, so it is the key's
	// first row; a conflicting append by another process moves FromSeq.
	if err := l.startKey(ctx, kr, dataDir); err != nil {
		return err
	}
	return nil
}

// RotateKey starts a new audit key in dataDir: rows from the next on are
// authenticated with it, and the old keys stay for the rows before. Stop
// every server that writes this audit log first, and copy the new file to
// every replica's data directory before starting them again.
func (l *Log) RotateKey(ctx context.Context, dataDir string) (Key, error) {
	kr, err := LoadKeyring(dataDir)
	if err != nil {
		return Key{}, err
	}
	k, err := newKey(0, l.now())
	if err != nil {
		return Key{}, err
	}
	kr.Keys = append(kr.Keys, k)
	if err := l.startKey(ctx, kr, dataDir); err != nil {
		return Key{}, err
	}
	return *kr.Current(), nil
}

// startKey appends the marker row of kr's newest key, authenticated by
// that key, and saves kr once the row's sequence (the key's FromSeq) is
// known. If the save fails the row is verifiable by no key: the operator
// sees it at once (verify names it) rather than later.
func (l *Log) startKey(ctx context.Context, kr *Keyring, dataDir string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := &kr.Keys[len(kr.Keys)-1]
	for range appendRetries {
		tail, err := l.st.AuditTail(ctx)
		if err != nil {
			return fmt.Errorf("start audit key: %w", err)
		}
		k.FromSeq = tail.Seq + 1
		details, _ := json.Marshal(keyMarkerDetails{KeyID: k.ID, FromSeq: k.FromSeq, PublicKey: hex.EncodeToString(k.PublicKey())})
		r := store.AuditRow{Seq: k.FromSeq, At: l.now().UTC().Truncate(time.Microsecond), Actor: ActorServer, Kind: KindAuditKey,
			Details: details, PrevHash: tail.Hash}
		r.Hash = keyedHash(k, r)
		err = l.st.AppendAudit(ctx, r)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("start audit key: %w", err)
		}
		if err := kr.save(dataDir); err != nil {
			return err
		}
		l.keys = kr
		return nil
	}
	return fmt.Errorf("start audit key: %w after %d attempts", store.ErrConflict, appendRetries)
}

// keyedSince finds the newest key marker in the chain.
func (l *Log) keyedSince(ctx context.Context) (uint64, bool, error) {
	rows, err := l.st.LatestAuditRows(ctx, []string{KindAuditKey}, math.MaxInt64, 1)
	if err != nil {
		return 0, false, fmt.Errorf("look for audit key rows: %w", err)
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	return rows[0].Seq, true, nil
}

// hashVersionKeyed is mixed into every keyed hash.
const hashVersionKeyed = "postern-audit-v2-hmac-sha256"

// keyedHash is Hash's encoding authenticated with HMAC-SHA256 under k.
func keyedHash(k *Key, r store.AuditRow) string {
	m := hmac.New(sha256.New, k.Secret)
	writeCanonical(m, hashVersionKeyed, r)
	return hex.EncodeToString(m.Sum(nil))
}

// rowHash is the hash row r must carry under the keys l knows: keyed from
// a key's FromSeq on, plain SHA-256 before the first key.
func (l *Log) rowHash(r store.AuditRow) string {
	if k := l.keys.keyFor(r.Seq); k != nil {
		return keyedHash(k, r)
	}
	return Hash(r)
}

// formatSeq is strconv.FormatUint for signing.
func formatSeq(seq uint64) string { return strconv.FormatUint(seq, 10) }

// Open returns the audit log of st with dataDir's audit key when there is
// one (as the command line does), for tools and tests that append to a
// server's log; it creates no key.
func Open(st store.LifecycleStore, dataDir string, now func() time.Time, logger *slog.Logger) (*Log, error) {
	l := New(st, now, logger)
	kr, err := LoadKeyring(dataDir)
	switch {
	case errors.Is(err, ErrNoKey):
		return l, nil
	case err != nil:
		return nil, err
	}
	return l.Keyed(kr), nil
}
