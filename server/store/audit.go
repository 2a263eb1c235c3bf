package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuditRow is one row of the hash-chained audit log, as stored. The
// server/audit package computes Hash; the store only keeps rows in order.
type AuditRow struct {
	Seq      uint64
	At       time.Time
	Actor    string
	Kind     string
	DeviceID string
	// Details is a JSON object.
	Details  []byte
	PrevHash string
	Hash     string
}

// AuditAnchor records where retention pruning cut the chain: the sequence
// and hash of the last deleted row. The zero value means nothing was pruned.
type AuditAnchor struct {
	Seq      uint64
	Hash     string
	PrunedAt time.Time
}

func (s *sqlStore) AuditTail(ctx context.Context) (AuditRow, error) {
	rows, err := s.auditQuery(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil || len(rows) == 0 {
		if err == nil {
			a, aerr := s.AuditAnchor(ctx)
			return AuditRow{Seq: a.Seq, Hash: a.Hash}, aerr
		}
		return AuditRow{}, err
	}
	return rows[0], nil
}

func (s *sqlStore) AppendAudit(ctx context.Context, r AuditRow) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM audit_log WHERE seq >= ?`), r.Seq).Scan(&n); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		if n > 0 {
			return ErrConflict
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (seq, at, actor, kind, device_id, details, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), int64(r.Seq), nanos(r.At), r.Actor, r.Kind, r.DeviceID, string(r.Details), r.PrevHash, r.Hash)
		if err != nil {
			// A concurrent writer (another replica) took the sequence.
			return fmt.Errorf("append audit: %w: %w", ErrConflict, err)
		}
		// The head lets verification notice rows deleted from the end.
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO server_state (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
			AuditHeadState, fmt.Sprintf("%d %s", r.Seq, r.Hash), nanos(r.At))
		if err != nil {
			return fmt.Errorf("append audit: record head: %w", err)
		}
		return nil
	})
}

// AuditSeal places r right after tail in the chain: it returns r with Seq,
// PrevHash and Hash set. server/audit computes the hash (keyed or not);
// the store only calls it inside the transaction that appends the row, so
// that the tail it is given is the real one.
type AuditSeal func(tail AuditRow, r AuditRow) AuditRow

func (s *sqlStore) AppendAuditRows(ctx context.Context, rows []AuditRow, seal AuditSeal) ([]AuditRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var out []AuditRow
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = make([]AuditRow, len(rows))
		if err := s.lockAudit(ctx, tx); err != nil {
			return err
		}
		ch := auditChain{s: s, ctx: ctx, tx: tx, seal: seal}
		for i, r := range rows {
			var err error
			if out[i], err = ch.append(r); err != nil {
				return err
			}
		}
		return ch.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("append audit: %w", err)
	}
	return out, nil
}

// auditAppendLock is the PostgreSQL advisory lock that takes the audit
// chain's appends in turn across replicas, so that a batch waits for
// another instead of failing on the same sequence.
const auditAppendLock = 0x706f7374_61756474 // "postaudt"

// lockAudit takes auditAppendLock until tx ends (PostgreSQL; on SQLite the
// writer already holds the database's write lock).
func (s *sqlStore) lockAudit(ctx context.Context, tx *sql.Tx) error {
	if !s.postgres() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditAppendLock)); err != nil {
		return fmt.Errorf("lock audit log: %w", err)
	}
	return nil
}

// auditChain appends sealed rows inside one transaction, reading the tail
// once, before the first.
type auditChain struct {
	s    *sqlStore
	ctx  context.Context
	tx   *sql.Tx
	seal AuditSeal
	tail *AuditRow
}

func (c *auditChain) append(r AuditRow) (AuditRow, error) {
	if c.tail == nil {
		t, err := c.readTail()
		if err != nil {
			return AuditRow{}, err
		}
		c.tail = &t
	}
	r = c.seal(*c.tail, r)
	if r.Seq != c.tail.Seq+1 || r.PrevHash != c.tail.Hash {
		return AuditRow{}, fmt.Errorf("append audit: row %d does not follow the tail %d", r.Seq, c.tail.Seq)
	}
	_, err := c.tx.ExecContext(c.ctx, c.s.q(`INSERT INTO audit_log (seq, at, actor, kind, device_id, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), int64(r.Seq), nanos(r.At), r.Actor, r.Kind, r.DeviceID, string(r.Details), r.PrevHash, r.Hash)
	if err != nil {
		// Another process (a command, a replica) took the sequence.
		return AuditRow{}, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	c.tail = &r
	return r, nil
}

func (c *auditChain) readTail() (AuditRow, error) {
	var seq int64
	var hash string
	err := c.tx.QueryRowContext(c.ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.tx.QueryRowContext(c.ctx, `SELECT seq, hash FROM audit_anchor WHERE id = 1`).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return AuditRow{}, nil
		}
	}
	if err != nil {
		return AuditRow{}, fmt.Errorf("read audit tail: %w", err)
	}
	return AuditRow{Seq: uint64(seq), Hash: hash}, nil
}

// finish records the head (the last row appended) once for the batch.
func (c *auditChain) finish() error {
	if c.tail == nil || c.tail.Seq == 0 {
		return nil
	}
	_, err := c.tx.ExecContext(c.ctx, c.s.q(`INSERT INTO server_state (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		AuditHeadState, fmt.Sprintf("%d %s", c.tail.Seq, c.tail.Hash), nanos(c.tail.At))
	if err != nil {
		return fmt.Errorf("append audit: record head: %w", err)
	}
	return nil
}

func (s *sqlStore) AuditRows(ctx context.Context, afterSeq uint64, limit int) ([]AuditRow, error) {
	if limit <= 0 || limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	return s.auditQuery(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, int64(afterSeq), limit)
}

// LatestAuditRows returns the newest limit rows (at most MaxAuditPage) of
// the given kinds with a seq up to atOrBefore, oldest first.
func (s *sqlStore) LatestAuditRows(ctx context.Context, kinds []string, atOrBefore uint64, limit int) ([]AuditRow, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	args := make([]any, 0, len(kinds)+2)
	marks := strings.Repeat("?, ", len(kinds)-1) + "?"
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, int64(atOrBefore), limit)
	rows, err := s.auditQuery(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE kind IN (`+marks+`) AND seq <= ?
		ORDER BY seq DESC LIMIT ?`, args...)
	slices.Reverse(rows)
	return rows, err
}

func (s *sqlStore) AuditAnchor(ctx context.Context) (AuditAnchor, error) {
	var a AuditAnchor
	var seq, at int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT seq, hash, pruned_at FROM audit_anchor WHERE id = 1`)).Scan(&seq, &a.Hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditAnchor{}, nil
	}
	if err != nil {
		return AuditAnchor{}, fmt.Errorf("read audit anchor: %w", err)
	}
	a.Seq, a.PrunedAt = uint64(seq), fromNanos(at)
	return a, nil
}

func (s *sqlStore) PruneAudit(ctx context.Context, before, now time.Time) (int64, error) {
	var deleted int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Delete a prefix of the chain, so that what remains still links
		// to the anchor even if the clock once stepped back.
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT MAX(seq) FROM audit_log WHERE at < ?`), nanos(before)).Scan(&last); err != nil {
			return fmt.Errorf("prune audit: %w", err)
		}
		if !last.Valid {
			return nil
		}
		var hash string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT hash FROM audit_log WHERE seq = ?`), last.Int64).Scan(&hash); err != nil {
			return fmt.Errorf("prune audit: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM audit_log WHERE seq <= ?`), last.Int64)
		if err != nil {
			return fmt.Errorf("prune audit: %w", err)
		}
		deleted, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at`),
			last.Int64, hash, nanos(now))
		if err != nil {
			return fmt.Errorf("record audit anchor: %w", err)
		}
		return nil
	})
	return deleted, err
}

// AuditHeadState names the server state holding "SEQ HASH" of the last
// appended audit row.
const AuditHeadState = "audit_head"

// MaxAuditPage bounds AuditRows.
const MaxAuditPage = 10_000

const auditColumns = `seq, at, actor, kind, device_id, details, prev_hash, hash`

func (s *sqlStore) auditQuery(ctx context.Context, query string, args ...any) ([]AuditRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		var r AuditRow
		var seq, at int64
		var details string
		if err := rows.Scan(&seq, &at, &r.Actor, &r.Kind, &r.DeviceID, &details, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		r.Seq, r.At, r.Details = uint64(seq), fromNanos(at), []byte(details)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
