package store

import (
	"context"
	"database/sql"
	"sync"
)

// readStmts holds the hot read queries (a device's posture, an API key),
// prepared on the reader pool on first use: SQLite otherwise parses and
// plans each query on every call, which dominated the decision API's
// cost. database/sql re-prepares a statement on each pooled connection
// as needed. Only queries named in hotReads are kept, so the set is
// bounded.
type readStmts struct {
	m sync.Map // rebound query text -> *sql.Stmt
}

// Hot read queries, prepared on first use.
const (
	qPostureByID   = postureQuery + `d.id = ?`
	qPostureByCert = postureQuery + `d.cert_sha256 = ?`
	qFirstFailed   = `SELECT control_id, first_failed_at FROM control_failures WHERE device_id = ?`
	qAPIKey        = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE id = ?`
)

var hotReads = map[string]bool{qPostureByID: true, qPostureByCert: true, qFirstFailed: true, qAPIKey: true}

// readStmt returns the prepared statement for a hot read query, or nil
// when query is not one or cannot be prepared (the caller then runs it
// unprepared, which reports the error). On PostgreSQL it is always nil:
// the driver prepares and caches every statement per connection.
func (s *sqlStore) readStmt(ctx context.Context, query string) *sql.Stmt {
	if !hotReads[query] || s.postgres() {
		return nil
	}
	if st, ok := s.reads.m.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := s.r.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil
	}
	if prev, loaded := s.reads.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

// readRow runs a single-row read, prepared when it is a hot one.
func (s *sqlStore) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, s.q(query), args...)
}

// readRows is readRow for a query returning rows.
func (s *sqlStore) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.q(query), args...)
}

// close closes the prepared reads; the store is closing.
func (r *readStmts) close() {
	r.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		r.m.Delete(k)
		return true
	})
}
