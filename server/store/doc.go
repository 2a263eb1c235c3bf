// Package store is postern-server's persistence: enrolled devices, one-time
// enrollment tokens, gateway API keys, each device's report history and latest
// report, and the per-device sequence and hash that make report ingest
// idempotent. Store is the interface; OpenSQLite is the embedded default
// (modernc.org/sqlite, pure Go) and OpenPostgres (pgx, through
// database/sql) lets several server replicas share one database. Both
// share one implementation and the same migrations, so the SQL is
// portable: `?` placeholders go through rebind, times are Unix nanoseconds
// in BIGINT columns, hashes are hex TEXT, and upserts use INSERT ... ON
// CONFLICT. The few differences are in postgres.go: a row lock where
// SQLite's single writer already excludes others, an advisory lock around
// migrations, and no SQLite index hint. TestBackendsAgree runs every
// method on both and compares the answers.
//
// Secrets (enrollment tokens, API keys) are stored only as SHA-256 hashes;
// they are 32 random bytes, so a plain hash is enough.
//
// On SQLite, report ingest is group-committed: IngestReport queues the
// report for a single writer goroutine, which commits every report waiting
// (up to a bound) in one transaction, each inside its own savepoint so
// that one failing report does not fail the others, and returns only once
// that transaction has committed. On PostgreSQL, which takes concurrent
// writers, each report commits in its own transaction, holding its
// device's row lock.
//
// History is bounded: each device keeps at most MaxHistoryPerDevice reports,
// and Prune deletes reports received before a cut-off (the server runs it
// hourly with a 90-day retention). The latest report of every device is
// always kept.
//
// LifecycleStore (part of Store) keeps the hash-chained audit log (rows are
// hashed by server/audit; the store only appends in sequence and records
// where retention cut the chain), exceptions, user attestations and small
// named server state such as the policy guard's status.
//
// The package is portable (linux, windows, darwin; CGO_ENABLED=0).
package store
