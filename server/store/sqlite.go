package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/postern-dev/postern/internal/dirowner"
)

// DBFile is the SQLite database's name inside the data directory.
const DBFile = "postern.db"

// OpenSQLite opens (creating if needed) the SQLite store in dataDir and
// applies pending migrations. It uses WAL so that the CLI can write while
// the server runs, a busy timeout, and foreign keys. Writes go through a
// single connection so that concurrent agents queue in Go instead of
// spinning on SQLITE_BUSY; reports are group-committed (see IngestReport).
// Temporary data, such as the per-report savepoint journal, stays in
// memory: on disk it cost a write per page a report touched.
func OpenSQLite(ctx context.Context, dataDir string) (Store, error) {
	return OpenSQLiteWith(ctx, dataDir, SQLiteOptions{})
}

// SQLiteOptions tune the SQLite store.
type SQLiteOptions struct {
	// Synchronous is SQLite's synchronous setting: SyncFull (the
	// default) makes every acknowledged report survive a power loss;
	// SyncNormal survives a process crash only, for fewer fsyncs
	// (docs/postgresql.md, "SQLite durability").
	Synchronous string
}

// SQLite synchronous settings.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// ValidateSynchronous accepts "", SyncFull and SyncNormal.
func ValidateSynchronous(v string) error {
	switch v {
	case "", SyncFull, SyncNormal:
		return nil
	}
	return fmt.Errorf("sqlite synchronous %q: want %q or %q", v, SyncFull, SyncNormal)
}

// OpenSQLiteWith is OpenSQLite with options.
func OpenSQLiteWith(ctx context.Context, dataDir string, o SQLiteOptions) (Store, error) {
	if err := ValidateSynchronous(o.Synchronous); err != nil {
		return nil, err
	}
	sync := "FULL"
	if o.Synchronous == SyncNormal {
		sync = "NORMAL"
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dataDir, DBFile)
	if err := ensurePrivateFile(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(" + sync + ")", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s := &sqlStore{w: w, r: r, style: placeholderQuestion}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.startWriter()
	return s, nil
}

// ensurePrivateFile creates the database file with mode 0600 before SQLite
// does, since SQLite would use the process umask.
func ensurePrivateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database file: %w", err)
	}
	// As root on a directory that is the service user's, the new
	// database must be the service's too.
	if err := dirowner.Match(f, filepath.Dir(path)); err != nil {
		f.Close()
		return fmt.Errorf("open database file: %w", err)
	}
	return f.Close()
}
