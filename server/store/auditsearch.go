package store

import (
	"context"
	"strings"
	"time"
)

// AuditFilter selects audit rows for the dashboard; empty fields do not
// filter. Rows come newest first.
type AuditFilter struct {
	Actor, Kind, DeviceID string
	// From and To bound At (From inclusive, To exclusive) when not zero.
	From, To time.Time
	Offset   int
	// Limit is at most MaxPageSize; 0 means MaxPageSize.
	Limit int
}

// AuditSearcher finds audit rows; part of Store.
type AuditSearcher interface {
	SearchAudit(ctx context.Context, f AuditFilter) ([]AuditRow, error)
}

func (s *sqlStore) SearchAudit(ctx context.Context, f AuditFilter) ([]AuditRow, error) {
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = MaxPageSize
	}
	var where []string
	var args []any
	add := func(cond string, a any) { where = append(where, cond); args = append(args, a) }
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if f.Kind != "" {
		add(`kind = ?`, f.Kind)
	}
	if f.DeviceID != "" {
		add(`device_id = ?`, f.DeviceID)
	}
	if !f.From.IsZero() {
		add(`at >= ?`, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		add(`at < ?`, f.To.UnixNano())
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC LIMIT ? OFFSET ?`
	return s.auditQuery(ctx, q, append(args, f.Limit, max(f.Offset, 0))...)
}

var _ AuditSearcher = (*sqlStore)(nil)
