package store

import (
	"context"
	"fmt"
	"time"
)

// MaxRevocationsListed bounds one RevokedSince answer; a caller polling
// with the newest time it saw catches up over several calls.
const MaxRevocationsListed = 1000

// Revocation is one revoked device and when it was revoked.
type Revocation struct {
	DeviceID  string
	RevokedAt time.Time
}

// RevocationLister lists recent revocations, so that a running server
// notices a revocation another process wrote; part of Store.
type RevocationLister interface {
	// RevokedSince returns the devices revoked strictly after since,
	// oldest first, at most MaxRevocationsListed of them.
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
}

func (s *sqlStore) RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, revoked_at FROM devices WHERE revoked_at > ? ORDER BY revoked_at, id LIMIT ?`),
		max(nanos(since), 0), MaxRevocationsListed)
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var r Revocation
		var at int64
		if err := rows.Scan(&r.DeviceID, &at); err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		r.RevokedAt = fromNanos(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return out, nil
}
