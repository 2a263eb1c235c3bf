package store

import (
	"context"
	"database/sql"
	"errors"
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

// SwapLastDecision stores next as the device's last decision only if the
// stored one still has prev's allow and reasons (prev nil: only if none is
// stored). Each case is one statement, which PostgreSQL runs against the
// latest committed row, so of several replicas swapping from the same
// prev exactly one wins. When it loses, current is the stored decision
// (zero when there is none, or the device no longer exists).
func (s *sqlStore) SwapLastDecision(ctx context.Context, prev *LastDecision, next LastDecision) (bool, LastDecision, error) {
	var swapped bool
	var cur LastDecision
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		swapped, cur, err = s.swapOne(ctx, tx, prev, next)
		return err
	})
	if err != nil {
		return false, LastDecision{}, fmt.Errorf("swap last decision: %w", err)
	}
	return swapped, cur, nil
}

// DecisionSwap is one device's new decision, stored only if the stored one
// is still From (nil: only if none is stored), as SwapLastDecision does,
// and the audit row recording the change, appended only if the swap wins.
type DecisionSwap struct {
	From  *LastDecision
	To    LastDecision
	Audit *AuditRow
}

// SwapOutcome is what became of one DecisionSwap: Swapped, and the row
// appended for it; or, when it lost, the decision that is stored (zero if
// none is, or the device is gone).
type SwapOutcome struct {
	Swapped bool
	Stored  LastDecision
	Row     AuditRow
}

func (s *sqlStore) SwapLastDecisions(ctx context.Context, swaps []DecisionSwap, seal AuditSeal) ([]SwapOutcome, error) {
	if len(swaps) == 0 {
		return nil, nil
	}
	var out []SwapOutcome
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = make([]SwapOutcome, len(swaps))
		if err := s.lockAudit(ctx, tx); err != nil {
			return err
		}
		ch := auditChain{s: s, ctx: ctx, tx: tx, seal: seal}
		for i, sw := range swaps {
			ok, cur, err := s.swapOne(ctx, tx, sw.From, sw.To)
			if err != nil {
				return err
			}
			out[i] = SwapOutcome{Swapped: ok, Stored: cur}
			if ok && sw.Audit != nil {
				if out[i].Row, err = ch.append(*sw.Audit); err != nil {
					return err
				}
			}
		}
		return ch.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("swap last decisions: %w", err)
	}
	return out, nil
}

// swapOne is SwapLastDecision inside tx.
func (s *sqlStore) swapOne(ctx context.Context, tx *sql.Tx, prev *LastDecision, next LastDecision) (bool, LastDecision, error) {
	allow := boolInt(next.Allow)
	var res sql.Result
	var err error
	if prev == nil {
		// INSERT ... SELECT skips a device deleted in the meantime.
		res, err = tx.ExecContext(ctx, s.q(`INSERT INTO last_decisions (device_id, allow, reasons, decided_at)
			SELECT id, ?, ?, ? FROM devices WHERE id = ?
			ON CONFLICT (device_id) DO NOTHING`), allow, next.Reasons, nanos(next.DecidedAt), next.DeviceID)
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE last_decisions SET allow = ?, reasons = ?, decided_at = ?
			WHERE device_id = ? AND allow = ? AND reasons = ?`),
			allow, next.Reasons, nanos(next.DecidedAt), next.DeviceID, boolInt(prev.Allow), prev.Reasons)
	}
	if err != nil {
		return false, LastDecision{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, LastDecision{}, err
	} else if n == 1 {
		return true, next, nil
	}
	cur := LastDecision{DeviceID: next.DeviceID}
	var at int64
	err = tx.QueryRowContext(ctx, s.q(`SELECT allow, reasons, decided_at FROM last_decisions WHERE device_id = ?`), next.DeviceID).
		Scan(&allow, &cur.Reasons, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, LastDecision{}, nil
	}
	if err != nil {
		return false, LastDecision{}, err
	}
	cur.Allow, cur.DecidedAt = allow != 0, fromNanos(at)
	return false, cur, nil
}
