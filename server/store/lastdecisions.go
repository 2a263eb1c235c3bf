package store

import (
	"context"
	"database/sql"
	"fmt"
)

func (s *sqlStore) LastDecisions(ctx context.Context) ([]LastDecision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT device_id, allow, reasons, decided_at FROM last_decisions ORDER BY device_id`)
	if err != nil {
		return nil, fmt.Errorf("read last decisions: %w", err)
	}
	defer rows.Close()
	var out []LastDecision
	for rows.Next() {
		var d LastDecision
		var allow, at int64
		if err := rows.Scan(&d.DeviceID, &allow, &d.Reasons, &at); err != nil {
			return nil, fmt.Errorf("read last decisions: %w", err)
		}
		d.Allow, d.DecidedAt = allow != 0, fromNanos(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read last decisions: %w", err)
	}
	return out, nil
}

func (s *sqlStore) PutLastDecisions(ctx context.Context, ds []LastDecision) error {
	if len(ds) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// INSERT ... SELECT skips a device deleted in the meantime instead
		// of failing the whole batch on the foreign key.
		stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO last_decisions (device_id, allow, reasons, decided_at)
			SELECT id, ?, ?, ? FROM devices WHERE id = ?
			ON CONFLICT (device_id) DO UPDATE SET allow = excluded.allow, reasons = excluded.reasons, decided_at = excluded.decided_at`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			allow := 0
			if d.Allow {
				allow = 1
			}
			if _, err := stmt.ExecContext(ctx, allow, d.Reasons, nanos(d.DecidedAt), d.DeviceID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store last decisions: %w", err)
	}
	return nil
}
