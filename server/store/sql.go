package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/internal/clock"
)

// sqlStore implements Store over database/sql with portable SQL. w is used
// for every write transaction, r for reads; on PostgreSQL both are the
// same pool.
type sqlStore struct {
	w, r  *sql.DB
	style int

	// stmts holds statements prepared on w at open, by query text; it is
	// read-only afterwards.
	stmts map[string]*sql.Stmt
	// reads holds the hot read statements, prepared on first use
	// (hotreads.go).
	reads readStmts

	// gw is the group-commit writer of IngestReport; nil until started,
	// in which case each report commits alone.
	gw        *groupWriter
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// leases are the SQLite leases held (lease.go).
	leaseMu sync.Mutex
	leases  map[string]bool

	// testHookStored, when set by a test, runs after a report's first
	// write; its error fails that report as a database error would.
	testHookStored func(Ingest) error
}

// exec runs a write statement inside tx, through a statement prepared at
// open time when there is one (parsing dominates small writes on SQLite).
// Statements cannot be prepared lazily here: the writer's only connection
// is held by tx.
func (s *sqlStore) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	query = s.q(query)
	if st, ok := s.stmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRow is exec for a single-row query.
func (s *sqlStore) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	query = s.q(query)
	if st, ok := s.stmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// prepare prepares the hot write statements on the writer.
func (s *sqlStore) prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range hotStatements {
		q = s.q(q)
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare statement: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

func (s *sqlStore) q(query string) string { return rebind(s.style, query) }

// Close stops the report writer (after its current batch), then closes
// the statements and databases. It is safe to call more than once.
func (s *sqlStore) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stopWriter()
		for _, st := range s.stmts {
			st.Close()
		}
		s.reads.close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// migrate applies pending migrations, one transaction each. On PostgreSQL
// every step holds an advisory lock and rereads the version, so servers
// starting together apply each migration once; the lock ends with the
// transaction, even if the server dies.
func (s *sqlStore) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next pending migration; done is true when there
// was none.
func (s *sqlStore) migrateStep(ctx context.Context) (done bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if s.postgres() {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this server (%d); upgrade postern-server", current, len(migrations))
		}
		if current == len(migrations) {
			done = true
			return nil
		}
		v := current + 1
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("apply migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, clock.Now().UnixNano()); err != nil {
			return fmt.Errorf("apply migration %d: %w", v, err)
		}
		return nil
	})
	return done, err
}

// tx runs fn in a write transaction, committed when fn returns nil. On
// SQLite it is one write of the group writer's next batch (groupcommit.go),
// inside a savepoint of the batch's transaction; fn must not call tx.
func (s *sqlStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.gw != nil {
		return s.batched(ctx, fn)
	}
	return s.txDirect(ctx, fn)
}

// txDirect runs fn in a transaction of its own.
func (s *sqlStore) txDirect(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (s *sqlStore) CreateToken(ctx context.Context, t Token) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO enroll_tokens (hash, created_at, expires_at, org, owner) VALUES (?, ?, ?, ?, ?)`),
		t.Hash, nanos(t.CreatedAt), nanos(t.ExpiresAt), t.Org, t.Owner)
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}

func (s *sqlStore) Enroll(ctx context.Context, tokenHash string, dev Device, now time.Time) (Device, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var expires, used int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT expires_at, used_at, org, owner FROM enroll_tokens WHERE hash = ?`), tokenHash).
			Scan(&expires, &used, &dev.Org, &dev.Owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Not a one-time token: perhaps a reusable enrollment secret.
			var serr error
			if dev.Org, dev.Owner, serr = s.redeemSecret(ctx, tx, tokenHash, now); serr != nil {
				return serr
			}
		case err != nil:
			return fmt.Errorf("read token: %w", err)
		case used != 0:
			return ErrTokenUsed
		case now.UnixNano() >= expires:
			return ErrTokenExpired
		default:
			res, err := tx.ExecContext(ctx, s.q(`UPDATE enroll_tokens SET used_at = ?, device_id = ? WHERE hash = ? AND used_at = 0`), now.UnixNano(), dev.ID, tokenHash)
			if err != nil {
				return fmt.Errorf("redeem token: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrTokenUsed
			}
		}
		dev.EnrolledAt = now
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO devices (id, cert_sha256, cert_not_after, hostname, os, os_name, os_version, arch, org, owner, enrolled_at, last_seen_at, key_kind, agent_version, approval, agent_secret_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			dev.ID, dev.CertSHA256, nanos(dev.CertNotAfter), dev.Info.Hostname, dev.Info.OS, dev.Info.OSName, dev.Info.OSVersion, dev.Info.Arch,
			dev.Org, dev.Owner, nanos(now), nanos(now), keyKind(dev.KeyKind), dev.AgentVersion, dev.Approval, dev.AgentSecretHash)
		if err != nil {
			return fmt.Errorf("create device: %w", err)
		}
		dev.LastSeenAt, dev.KeyKind = now, keyKind(dev.KeyKind)
		return nil
	})
	if err != nil {
		return Device{}, err
	}
	return dev, nil
}

const deviceColumns = `d.id, d.cert_sha256, d.cert_not_after, d.hostname, d.os, d.os_name, d.os_version, d.arch, d.org, d.owner, d.enrolled_at, d.revoked_at, d.last_seen_at, d.key_kind, d.agent_version, d.approval, d.agent_secret_hash`

// keyKind stores an unset kind as software: only a verified attestation
// makes a hardware key.
func keyKind(k string) string {
	if k == KeyHardware {
		return KeyHardware
	}
	return KeySoftware
}

type scanner interface{ Scan(dest ...any) error }

func scanDevice(row scanner, extra ...any) (Device, error) {
	var d Device
	var notAfter, enrolled, revoked, seen int64
	dest := append([]any{&d.ID, &d.CertSHA256, &notAfter, &d.Info.Hostname, &d.Info.OS, &d.Info.OSName, &d.Info.OSVersion, &d.Info.Arch,
		&d.Org, &d.Owner, &enrolled, &revoked, &seen, &d.KeyKind, &d.AgentVersion, &d.Approval, &d.AgentSecretHash}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Device{}, ErrNotFound
		}
		return Device{}, fmt.Errorf("read device: %w", err)
	}
	d.CertNotAfter, d.EnrolledAt, d.RevokedAt, d.LastSeenAt = fromNanos(notAfter), fromNanos(enrolled), fromNanos(revoked), fromNanos(seen)
	return d, nil
}

func (s *sqlStore) Device(ctx context.Context, id string) (Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, s.q(`SELECT `+deviceColumns+` FROM devices d WHERE d.id = ?`), id))
}

func (s *sqlStore) DeviceByCert(ctx context.Context, certSHA256 string) (Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, s.q(`SELECT `+deviceColumns+` FROM devices d WHERE d.cert_sha256 = ?`), certSHA256))
}

func (s *sqlStore) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices d ORDER BY d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

func (s *sqlStore) RenewCert(ctx context.Context, id, certSHA256 string, notAfter time.Time) error {
	return s.updateOne(ctx, `UPDATE devices SET cert_sha256 = ?, cert_not_after = ? WHERE id = ?`, certSHA256, nanos(notAfter), id)
}

func (s *sqlStore) SetAgentVersion(ctx context.Context, id, version string) error {
	return s.updateOne(ctx, `UPDATE devices SET agent_version = ? WHERE id = ?`, version, id)
}

func (s *sqlStore) SetApproval(ctx context.Context, id, approval string) error {
	switch approval {
	case "", ApprovalPending, ApprovalDenied:
	default:
		return fmt.Errorf("approval %q: not pending, denied or empty", approval)
	}
	return s.updateOne(ctx, `UPDATE devices SET approval = ? WHERE id = ?`, approval, id)
}

func (s *sqlStore) Revoke(ctx context.Context, id string, at time.Time) error {
	return s.updateOne(ctx, `UPDATE devices SET revoked_at = ? WHERE id = ?`, nanos(at), id)
}

func (s *sqlStore) updateOne(ctx context.Context, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("update device: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update device: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

func checkSequence(seq uint64) error {
	if seq == 0 || seq > math.MaxInt64 {
		return fmt.Errorf("sequence %d out of range", seq)
	}
	return nil
}
