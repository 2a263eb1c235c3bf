package store

import (
	"context"
	"fmt"
)

// MaxAPIKeysListed bounds one listing of API keys.
const MaxAPIKeysListed = 1000

// APIKeyLister lists API keys; part of Store.
type APIKeyLister interface {
	// APIKeys returns up to MaxAPIKeysListed keys, revoked ones included,
	// oldest first. Only the hashes of their secrets are stored.
	APIKeys(ctx context.Context) ([]APIKey, error)
}

func (s *sqlStore) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id LIMIT ?`), MaxAPIKeysListed)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}
