package store

import (
	"context"
	"fmt"
	"time"
)

// APIKeyRevoker revokes gateway API keys; part of Store. A
// running server notices a revocation made by another process within its
// key cache's lifetime (five seconds).
type APIKeyRevoker interface {
	// RevokeAPIKey marks the key revoked at the given time; ErrNotFound if
	// there is no such key or it is already revoked.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
}

func (s *sqlStore) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("revoke api key: no revocation time")
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`), nanos(at), id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
