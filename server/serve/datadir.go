package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

// ErrNoServer means the data directory (and, with PostgreSQL, the
// database) holds no Postern server: only `serve --init` or `init` create
// one, so that a typo in --data or a forgotten flag never starts a second,
// empty server with a new CA.
var ErrNoServer = errors.New("no Postern server here")

// ErrDamagedDatabase means the SQLite database next to an existing CA is
// missing, empty, truncated or not a database: starting on it would drop
// every device, user and audit row without a word.
var ErrDamagedDatabase = errors.New("damaged database")

// InitFlag is how the command line asks for a new server; error messages
// name it.
const InitFlag = "--init"

// sqliteHeader opens every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// noServerError names the directory and the way to create a server there.
func noServerError(dir, why string) error {
	return fmt.Errorf("%w: %s (%s). Give --data the directory of an existing server (default %s), or create a new server with `postern-server serve %s --data %s`",
		ErrNoServer, dir, why, DefaultDataDir(), InitFlag, dir)
}

// inspectSQLite says what is wrong with the SQLite database file at path,
// or "" when it looks whole. It reads the 100-byte header only, so it is
// instant on any size of database: a file cut short by a full disk or a
// bad copy is found by comparing its length with the page count the
// header records.
func inspectSQLite(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "is missing", nil
	}
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() {
		return "is a directory, not a database", nil
	}
	size := st.Size()
	if size == 0 {
		return "is empty (0 bytes)", nil
	}
	h := make([]byte, 100)
	if _, err := io.ReadFull(f, h); err != nil {
		return fmt.Sprintf("is truncated (%d bytes, shorter than a SQLite header)", size), nil
	}
	if !bytes.Equal(h[:16], sqliteHeader) {
		return "is not a SQLite database (its first bytes are not a SQLite header)", nil
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count is valid only when the header's version-valid-for
	// number matches its change counter (SQLite file format, section 1.3.7).
	if binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28]) && pages > 0 && size < pages*pageSize {
		return fmt.Sprintf("is truncated (%d bytes; its header records %d pages of %d bytes)", size, pages, pageSize), nil
	}
	return "", nil
}

// usesSQLite reports whether c selects the embedded database.
func (c Config) usesSQLite() bool { return c.Database == "" && c.DatabaseFile == "" }

// CheckServerDir refuses a data directory that holds no server, and an
// SQLite database that is missing, empty or truncated next to an existing
// CA. With init, an empty or missing directory is accepted (the server
// will be created), and a damaged database next to a CA is moved aside
// (never deleted) so that the server starts over with the same CA. It
// returns a note for the log of what init did, if anything.
func CheckServerDir(c Config, init bool) (string, error) {
	dir := c.DataDir
	if dir == "" {
		return "", errors.New("no data directory given (--data)")
	}
	if fi, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if init {
			return "", nil
		}
		return "", noServerError(dir, "the directory does not exist")
	} else if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dir, err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("data directory %s: not a directory", dir)
	}
	hasCA := caPresent(dir) || fileExists(filepath.Join(dir, ca.CAKeyFile))
	if !c.usesSQLite() {
		// The database is elsewhere; whether it holds a server is known
		// once it is open (requireServer).
		return "", nil
	}
	db := filepath.Join(dir, store.DBFile)
	problem, err := inspectSQLite(db)
	if err != nil {
		return "", err
	}
	switch {
	case !hasCA && problem == "is missing":
		if init {
			return "", nil
		}
		return "", noServerError(dir, "no "+ca.CAFile+" and no "+store.DBFile)
	case problem == "":
		return "", nil
	case !hasCA:
		return "", fmt.Errorf("%w: %s %s, and %s holds no device CA: restore the data directory from a backup, or remove %s and create a new server with `postern-server serve %s --data %s`",
			ErrDamagedDatabase, db, problem, dir, db, InitFlag, dir)
	case !init:
		return "", fmt.Errorf("%w: %s %s, next to the device CA %s: starting would lose every device, user and audit row. Stop here and restore %s from a backup; or start over with the same CA (the damaged file is kept aside) with `postern-server serve %s --data %s`",
			ErrDamagedDatabase, db, problem, filepath.Join(dir, ca.CAFile), store.DBFile, InitFlag, dir)
	}
	if problem == "is missing" {
		return fmt.Sprintf("%s was missing next to the device CA: starting over with a new database", db), nil
	}
	aside := fmt.Sprintf("%s.damaged-%s", db, time.Now().UTC().Format("20060102T150405Z")) // wall clock: a file name, never compared
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(db+suffix, aside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("move the damaged database aside: %w", err)
		}
	}
	return fmt.Sprintf("%s %s: moved to %s; starting over with a new database and the same device CA", db, problem, aside), nil
}

// requireServer refuses an open store that belongs to no server: no CA in
// the data directory and no CA recorded in the database (a new PostgreSQL
// database, or an SQLite one made by hand).
func requireServer(ctx context.Context, st store.Store, c Config, database string) error {
	if caPresent(c.DataDir) {
		return nil
	}
	_, _, err := st.State(ctx, caPinState)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s has no device CA and the database (%s) has none recorded. Give --data the directory of an existing server, or create a new server with `postern-server serve %s --data %s`",
			ErrNoServer, c.DataDir, database, InitFlag, c.DataDir)
	default:
		return fmt.Errorf("read the database's CA pin: %w", err)
	}
}

// OpenExisting opens the store of an existing server for a command other
// than serve: it refuses a data directory or database that holds no server
// and a damaged database, and creates nothing.
func OpenExisting(ctx context.Context, c Config) (store.Store, error) {
	if _, err := CheckServerDir(c, false); err != nil {
		return nil, err
	}
	st, database, err := OpenStore(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := requireServer(ctx, st, c, database); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
