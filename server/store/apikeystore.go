package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MaxAPIKeyOwnerLen bounds an API key's owner.
const MaxAPIKeyOwnerLen = 256

// apiKeyColumns are the api_keys columns scanAPIKey reads, in its order.
const apiKeyColumns = `id, name, hash, scopes, owner, created_at, expires_at, revoked_at, last_used_at`

// scanAPIKey reads one row of apiKeyColumns.
func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var scopes string
	var created, expires, revoked, used int64
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &scopes, &k.Owner, &created, &expires, &revoked, &used); err != nil {
		return APIKey{}, err
	}
	sc, err := ParseScopes(scopes)
	if err != nil {
		return APIKey{}, fmt.Errorf("api key %s: %w", k.ID, err)
	}
	k.Scopes = sc
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromNanos(created), fromNanos(expires), fromNanos(revoked), fromNanos(used)
	return k, nil
}

// Usable reports whether the key may open a request at now: neither
// revoked nor expired.
func (k APIKey) Usable(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// validate checks a key about to be stored.
func (k APIKey) validate() error {
	switch {
	case k.ID == "" || k.Hash == "":
		return errors.New("api key without an ID or hash")
	case k.Name == "" || len(k.Name) > MaxAPIKeyNameLen:
		return fmt.Errorf("api key name must be 1 to %d bytes", MaxAPIKeyNameLen)
	case len(k.Owner) > MaxAPIKeyOwnerLen:
		return fmt.Errorf("api key owner must be at most %d bytes", MaxAPIKeyOwnerLen)
	case k.CreatedAt.IsZero():
		return errors.New("api key without a creation time")
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(k.CreatedAt):
		return errors.New("api key expiry must be after its creation")
	}
	if len(k.Scopes) == 0 {
		return nil // a gateway's, as every key made before scopes
	}
	if _, err := ParseScopes(JoinScopes(k.Scopes)); err != nil {
		return fmt.Errorf("api key scopes: %w", err)
	}
	return nil
}

// CreateAPIKey stores k; a key without scopes gets GatewayScopes, as
// keys made before scopes did.
func (s *sqlStore) CreateAPIKey(ctx context.Context, k APIKey) error {
	if err := k.validate(); err != nil {
		return err
	}
	if len(k.Scopes) == 0 {
		k.Scopes = GatewayScopes
	}
	var exists int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM api_keys WHERE id = ?`), k.ID).Scan(&exists)
	if err != nil {
		return fmt.Errorf("store api key: %w", err)
	}
	if exists > 0 {
		return ErrConflict
	}
	_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO api_keys (id, name, hash, scopes, owner, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.Name, k.Hash, JoinScopes(canonicalScopes(k.Scopes)), k.Owner, nanos(k.CreatedAt), nanos(k.ExpiresAt))
	if isUniqueViolation(err) {
		// Another process created the same ID since the check above.
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store api key: %w", err)
	}
	return nil
}

func (s *sqlStore) APIKey(ctx context.Context, id string) (APIKey, error) {
	k, err := scanAPIKey(s.readRow(ctx, qAPIKey, id))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("read api key: %w", err)
	}
	return k, nil
}

// APIKeyToucher records when keys were last used; part of Store.
type APIKeyToucher interface {
	// TouchAPIKey records that key id was used at at; an earlier time
	// than the one stored changes nothing. Callers coalesce: the API
	// writes at most once a minute per key.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

func (s *sqlStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`), nanos(at), id, nanos(at)); err != nil {
		return fmt.Errorf("record api key use: %w", err)
	}
	return nil
}
