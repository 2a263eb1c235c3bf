package store

import (
	"context"
	"fmt"
	"time"

	"github.com/postern-dev/postern/checks"
)

// Kinds of Change.
const (
	ChangeEnrolled = "enrolled"
	ChangeRevoked  = "revoked"
	ChangeFailing  = "failing"
)

func (s *sqlStore) RecentChanges(ctx context.Context, since time.Time, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	cut := since.UnixNano()
	rows, err := s.r.QueryContext(ctx, s.q(`
		SELECT d.id, d.hostname, d.enrolled_at, 'enrolled', '' FROM devices d WHERE d.enrolled_at >= ?
		UNION ALL
		SELECT d.id, d.hostname, d.revoked_at, 'revoked', '' FROM devices d WHERE d.revoked_at >= ?
		UNION ALL
		SELECT d.id, d.hostname, f.first_failed_at, 'failing', f.control_id FROM control_failures f
			JOIN devices d ON d.id = f.device_id WHERE f.first_failed_at >= ?
		ORDER BY 3 DESC LIMIT ?`), cut, cut, cut, limit)
	if err != nil {
		return nil, fmt.Errorf("list recent changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		var ctl string
		if err := rows.Scan(&c.DeviceID, &c.Hostname, &at, &c.Kind, &ctl); err != nil {
			return nil, fmt.Errorf("list recent changes: %w", err)
		}
		c.At, c.Control = fromNanos(at), checks.ControlID(ctl)
		out = append(out, c)
	}
	return out, rows.Err()
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *sqlStore) RecordTrend(ctx context.Context, day time.Time, c map[DeviceStatus]int) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO compliance_daily (day, compliant, noncompliant, stale, inactive, revoked) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET compliant = excluded.compliant, noncompliant = excluded.noncompliant,
		stale = excluded.stale, inactive = excluded.inactive, revoked = excluded.revoked`),
		dayStart(day).UnixNano(), c[StatusCompliant], c[StatusNoncompliant], c[StatusStale], c[StatusInactive], c[StatusRevoked])
	if err != nil {
		return fmt.Errorf("record trend: %w", err)
	}
	return nil
}

func (s *sqlStore) Trend(ctx context.Context, from time.Time) ([]TrendPoint, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT day, compliant, noncompliant, stale, inactive, revoked FROM compliance_daily
		WHERE day >= ? ORDER BY day`), dayStart(from).UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read trend: %w", err)
	}
	defer rows.Close()
	var out []TrendPoint
	for rows.Next() {
		var day int64
		var c, n, st, in, rv int
		if err := rows.Scan(&day, &c, &n, &st, &in, &rv); err != nil {
			return nil, fmt.Errorf("read trend: %w", err)
		}
		out = append(out, TrendPoint{Day: fromNanos(day), Counts: map[DeviceStatus]int{
			StatusCompliant: c, StatusNoncompliant: n, StatusStale: st, StatusInactive: in, StatusRevoked: rv}})
	}
	return out, rows.Err()
}

func (s *sqlStore) Tokens(ctx context.Context, limit int) ([]TokenInfo, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT hash, created_at, expires_at, used_at, device_id, org, owner FROM enroll_tokens
		ORDER BY created_at DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var created, expires, used int64
		if err := rows.Scan(&t.Hash, &created, &expires, &used, &t.DeviceID, &t.Org, &t.Owner); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, t.ExpiresAt, t.UsedAt = fromNanos(created), fromNanos(expires), fromNanos(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *sqlStore) RevokeToken(ctx context.Context, hash string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE enroll_tokens SET expires_at = ? WHERE hash = ? AND used_at = 0 AND expires_at > ?`),
		at.UnixNano(), hash, at.UnixNano())
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

var (
	_ Accounts = (*sqlStore)(nil)
	_ Fleet    = (*sqlStore)(nil)
)
