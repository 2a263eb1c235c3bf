package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postern-dev/postern/server/store"
)

// EnvDatabaseURL names the environment variable that may hold the
// PostgreSQL connection string, so that its password is neither on the
// command line nor in the configuration file. Flags override it; it
// overrides the file's database and database_file.
const EnvDatabaseURL = "POSTERN_DATABASE_URL"

// maxDatabaseFileSize bounds a database_file: it holds one connection
// string.
const maxDatabaseFileSize = 64 << 10

// validateDatabase checks the database selection without ever quoting the
// connection string, which may hold a password.
func (c Config) validateDatabase() error {
	if c.Database != "" && c.DatabaseFile != "" {
		return errors.New("database and database_file: give one, not both")
	}
	if c.Database != "" && !looksLikePostgres(c.Database) {
		return errors.New("database: not a PostgreSQL connection string (postgres://... or key=value pairs)")
	}
	return nil
}

// looksLikePostgres accepts what libpq accepts: a postgres:// or
// postgresql:// URL, or key=value pairs.
func looksLikePostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || strings.Contains(dsn, "=")
}

// databaseDSN returns the PostgreSQL connection string the configuration
// selects, read from DatabaseFile when that is set; "" means SQLite.
func (c Config) databaseDSN() (string, error) {
	if c.DatabaseFile == "" {
		return c.Database, nil
	}
	f, err := os.Open(c.DatabaseFile)
	if err != nil {
		return "", fmt.Errorf("database_file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDatabaseFileSize+1))
	if err != nil {
		return "", fmt.Errorf("database_file: %w", err)
	}
	if len(b) > maxDatabaseFileSize {
		return "", fmt.Errorf("database_file %s: larger than %d bytes", c.DatabaseFile, maxDatabaseFileSize)
	}
	dsn := strings.TrimSpace(string(b))
	if !looksLikePostgres(dsn) {
		return "", fmt.Errorf("database_file %s: does not hold a PostgreSQL connection string", c.DatabaseFile)
	}
	return dsn, nil
}

// OpenStore opens the store the configuration selects: PostgreSQL when
// Database or DatabaseFile is set, otherwise the embedded SQLite database
// in DataDir. It also returns a description of the database for logs,
// without any password.
func OpenStore(ctx context.Context, c Config) (store.Store, string, error) {
	if err := c.validateDatabase(); err != nil {
		return nil, "", err
	}
	dsn, err := c.databaseDSN()
	if err != nil {
		return nil, "", err
	}
	if dsn == "" {
		path := filepath.Join(c.DataDir, store.DBFile)
		st, err := store.OpenSQLiteWith(ctx, c.DataDir, store.SQLiteOptions{Synchronous: c.SQLiteSynchronous})
		if err != nil {
			// Name the file: "database disk image is malformed" alone
			// does not say which of a host's databases to restore.
			return nil, "", fmt.Errorf("sqlite database %s: %w", path, err)
		}
		return st, "sqlite " + path, nil
	}
	st, err := store.OpenPostgres(ctx, dsn)
	return st, describePostgres(dsn), err
}

// describePostgres names the server, database and user of dsn; never the
// password.
func describePostgres(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgresql"
	}
	return fmt.Sprintf("postgresql user=%s host=%s port=%d dbname=%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
