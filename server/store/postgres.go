package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresMaxConns bounds the connections one store opens. Every replica
// and every CLI command holds up to this many, which must fit the server's
// max_connections (100 by default).
const PostgresMaxConns = 10

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres://
// URL or key=value string, as libpq takes) and applies pending
// migrations. Several servers may share the database: migrations run
// under an advisory lock, report ingest locks the device's row, and the
// audit log's sequence is its primary key, so a lost race is ErrConflict.
//
// Reports are not group-committed as on SQLite: PostgreSQL takes
// concurrent writers, so each report commits in its own transaction on
// the connection pool. Statements are prepared and cached per connection
// by the driver.
func OpenPostgres(ctx context.Context, dsn string) (Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("postgresql connection string: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(PostgresMaxConns)
	db.SetMaxIdleConns(PostgresMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgresql: %w", err)
	}
	s := &sqlStore{w: db, r: db, style: placeholderDollar}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// postgres reports whether the store runs on PostgreSQL.
func (s *sqlStore) postgres() bool { return s.style == placeholderDollar }

// migrationLock is the key of the PostgreSQL advisory lock held while a
// migration step runs ("postern" in ASCII).
const migrationLock int64 = 0x706f737465726e

// lockRow makes a SELECT lock the rows it reads until the transaction
// ends, on PostgreSQL. SQLite needs no such clause: its write
// transactions (BEGIN IMMEDIATE) already exclude each other.
func (s *sqlStore) lockRow(query string) string {
	if s.postgres() {
		return query + ` FOR UPDATE`
	}
	return query
}

// isUniqueViolation reports whether err is a unique or primary key
// violation, from either database.
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		// SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE.
		return lite.Code() == 1555 || lite.Code() == 2067
	}
	return false
}
