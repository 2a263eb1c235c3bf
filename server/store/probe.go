package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/postern-dev/postern/internal/clock"
)

// ProbeState is the server_state row readiness probes write.
const ProbeState = "readyz_probe"

// ProbeCommit commits a one-row write, so that readiness reflects whether
// the database can commit now (disk full, read-only, locked past ctx's
// deadline) and not only whether it answers reads.
func (s *sqlStore) ProbeCommit(ctx context.Context) error {
	now := clock.Now()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO server_state (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
			ProbeState, strconv.FormatInt(now.UnixNano(), 10), nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("probe commit: %w", err)
	}
	return nil
}
