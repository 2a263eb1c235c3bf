package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	pb "github.com/postern-dev/postern/proto"
)

// EnrollSecret is a reusable, org-scoped enrollment secret: what an MDM
// pushes to a whole fleet in one package. It has the one-time token's
// format (it pins the CA the same way), an expiry, an optional use limit,
// and can be revoked; every device it enrolls gets its labels.
type EnrollSecret struct {
	// ID names the secret in listings and audit records: the first 12
	// hex digits of its hash, never the secret.
	ID        string
	Hash      string
	Org       string
	Owner     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// MaxUses is the most devices it may enroll; 0 is no limit.
	MaxUses   int
	Uses      int
	RevokedAt time.Time
}

// Limits of an enrollment secret.
const (
	MaxSecretTTL  = 3 * 365 * 24 * time.Hour
	MaxSecretUses = 1_000_000
)

// NewEnrollSecret makes a reusable enrollment secret pinning the CA with
// caPin. It returns the secret to print and the record to store. An org
// is required: a fleet secret always says whose devices it enrolls.
func NewEnrollSecret(caPin [sha256.Size]byte, ttl time.Duration, maxUses int, org, owner string, now time.Time) (string, EnrollSecret, error) {
	org, owner = strings.TrimSpace(org), strings.TrimSpace(owner)
	switch {
	case ttl <= 0 || ttl > MaxSecretTTL:
		return "", EnrollSecret{}, fmt.Errorf("secret lifetime %v: must be between 1s and %v", ttl, MaxSecretTTL)
	case maxUses < 0 || maxUses > MaxSecretUses:
		return "", EnrollSecret{}, fmt.Errorf("use limit %d: must be between 0 (none) and %d", maxUses, MaxSecretUses)
	case org == "":
		return "", EnrollSecret{}, errors.New("an enrollment secret needs an org")
	case len(org) > MaxLabelLen || len(owner) > MaxLabelLen:
		return "", EnrollSecret{}, fmt.Errorf("org and owner must be at most %d bytes", MaxLabelLen)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", EnrollSecret{}, fmt.Errorf("generate secret: %w", err)
	}
	tok := pb.EnrollToken{Secret: secret, CAPin: caPin}
	h := HashSecret(secret)
	rec := EnrollSecret{ID: h[:12], Hash: h, Org: org, Owner: owner, CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: maxUses}
	return tok.String(), rec, nil
}

// SecretStore keeps enrollment secrets; the SQL stores implement it.
type SecretStore interface {
	CreateEnrollSecret(ctx context.Context, s EnrollSecret) error
	// EnrollSecrets lists every secret, newest first.
	EnrollSecrets(ctx context.Context) ([]EnrollSecret, error)
	// RevokeEnrollSecret revokes the secret whose ID is id; ErrNotFound
	// when there is none, and no error when it was already revoked.
	RevokeEnrollSecret(ctx context.Context, id string, at time.Time) (EnrollSecret, error)
}

var _ SecretStore = (*sqlStore)(nil)

func (s *sqlStore) CreateEnrollSecret(ctx context.Context, e EnrollSecret) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO enroll_secrets (id, hash, org, owner, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		e.ID, e.Hash, e.Org, e.Owner, nanos(e.CreatedAt), nanos(e.ExpiresAt), e.MaxUses)
	if err != nil {
		return fmt.Errorf("store enrollment secret: %w", err)
	}
	return nil
}

const secretColumns = `id, hash, org, owner, created_at, expires_at, max_uses, uses, revoked_at`

func scanSecret(row scanner) (EnrollSecret, error) {
	var e EnrollSecret
	var created, expires, revoked int64
	if err := row.Scan(&e.ID, &e.Hash, &e.Org, &e.Owner, &created, &expires, &e.MaxUses, &e.Uses, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return EnrollSecret{}, ErrNotFound
		}
		return EnrollSecret{}, fmt.Errorf("read enrollment secret: %w", err)
	}
	e.CreatedAt, e.ExpiresAt, e.RevokedAt = fromNanos(created), fromNanos(expires), fromNanos(revoked)
	return e, nil
}

func (s *sqlStore) EnrollSecrets(ctx context.Context) ([]EnrollSecret, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+secretColumns+` FROM enroll_secrets ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list enrollment secrets: %w", err)
	}
	defer rows.Close()
	var out []EnrollSecret
	for rows.Next() {
		e, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) RevokeEnrollSecret(ctx context.Context, id string, at time.Time) (EnrollSecret, error) {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE enroll_secrets SET revoked_at = ? WHERE id = ? AND revoked_at = 0`), nanos(at), id); err != nil {
		return EnrollSecret{}, fmt.Errorf("revoke enrollment secret: %w", err)
	}
	return scanSecret(s.w.QueryRowContext(ctx, s.q(`SELECT `+secretColumns+` FROM enroll_secrets WHERE id = ?`), id))
}

// redeemSecret counts one use of the secret with hash inside an
// enrollment transaction and returns its labels. ErrTokenInvalid means no
// such secret (or a revoked one), ErrTokenUsed that its uses are spent,
// ErrTokenExpired that it expired; the agent gets the same codes as for a
// token.
func (s *sqlStore) redeemSecret(ctx context.Context, tx *sql.Tx, hash string, now time.Time) (org, owner string, err error) {
	e, err := scanSecret(tx.QueryRowContext(ctx, s.q(`SELECT `+secretColumns+` FROM enroll_secrets WHERE hash = ?`), hash))
	switch {
	case errors.Is(err, ErrNotFound):
		return "", "", ErrTokenInvalid
	case err != nil:
		return "", "", err
	case !e.RevokedAt.IsZero():
		return "", "", ErrTokenInvalid
	case !now.Before(e.ExpiresAt):
		return "", "", ErrTokenExpired
	case e.MaxUses > 0 && e.Uses >= e.MaxUses:
		return "", "", ErrTokenUsed
	}
	// Counted with a guard, so that two enrollments racing for the last
	// use cannot both have it.
	res, err := tx.ExecContext(ctx, s.q(`UPDATE enroll_secrets SET uses = uses + 1 WHERE hash = ? AND revoked_at = 0 AND (max_uses = 0 OR uses < max_uses)`), hash)
	if err != nil {
		return "", "", fmt.Errorf("redeem enrollment secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", "", ErrTokenUsed
	}
	return e.Org, e.Owner, nil
}
