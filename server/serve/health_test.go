package serve

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/store"
)

// probe runs the readiness check as /readyz does, with its 2 s deadline.
func probe(t *testing.T, st store.Store, cfg Config) error {
	t.Helper()
	var up atomic.Bool
	up.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return readiness(st, cfg, &up)(ctx)
}

func reason(err error) string {
	var nr *api.NotReady
	if errors.As(err, &nr) {
		return nr.Reason
	}
	return ""
}

func TestReadiness(t *testing.T) {
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := Config{DataDir: dir}
	t.Run("a database that commits is ready", func(t *testing.T) {
		if err := probe(t, st, cfg); err != nil {
			t.Fatalf("not ready: %v", err)
		}
	})
	t.Run("listeners not up is not ready", func(t *testing.T) {
		var up atomic.Bool
		if got := reason(readiness(st, cfg, &up)(context.Background())); got != "listeners not up" {
			t.Errorf("reason %q", got)
		}
	})
	t.Run("a database locked by another writer past the deadline is not ready, and says so", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dir, store.DBFile)))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
			t.Fatal(err)
		}
		err = probe(t, st, cfg)
		conn.ExecContext(context.Background(), `ROLLBACK`)
		if got := reason(err); !strings.Contains(got, "locked") {
			t.Errorf("reason %q (err %v), want locked", got, err)
		}
		if err := probe(t, st, cfg); err != nil {
			t.Errorf("still not ready once the lock is gone: %v", err)
		}
	})
}

func TestCommitFailureNames(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"SQLite's full result", errors.New("commit: database or disk is full (13)"), "database cannot commit: disk full"},
		{"the OS's ENOSPC", errors.New("write /var/lib/postern-server/postern.db-wal: no space left on device"), "database cannot commit: disk full"},
		{"PostgreSQL's disk full", errors.New(`ERROR: could not extend file "base/16384/2619": No space left on device (SQLSTATE 53100)`), "database cannot commit: disk full"},
		{"SQLite's read-only result", errors.New("attempt to write a readonly database (8)"), "database cannot commit: read-only"},
		{"PostgreSQL's read-only transaction", errors.New("ERROR: cannot execute INSERT in a read-only transaction (SQLSTATE 25006)"), "database cannot commit: read-only"},
		{"SQLite busy", errors.New("database is locked (5) (SQLITE_BUSY)"), "database cannot commit: locked or busy past the probe's deadline"},
		{"a deadline", context.DeadlineExceeded, "database cannot commit: locked or busy past the probe's deadline"},
		{"PostgreSQL gone", errors.New("failed to connect to `user=postern database=postern`: dial error"), "database unreachable"},
		{"anything else", errors.New("no such table: server_state"), "database cannot commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commitFailure(context.Background(), tt.err); got != tt.want {
				t.Errorf("commitFailure(%q) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestReadinessDiskFull fills a small tmpfs holding the data directory.
// Mounting needs root, which CI runs as.
func TestReadinessDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 8<<20)
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := Config{DataDir: dir}
	if err := probe(t, st, cfg); err == nil || !strings.Contains(reason(err), "disk almost full") {
		t.Errorf("an 8 MiB data directory: %v, want 'disk almost full' (under %d MiB)", err, MinFreeDisk>>20)
	}
	// Fill the rest: the commit itself must fail now, whatever the
	// free-space threshold.
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	// Commit until the WAL must grow, so the probe's own commit fails.
	c := st.(committer)
	for range 1000 {
		if c.ProbeCommit(context.Background()) != nil {
			break
		}
	}
	err = probe(t, st, cfg)
	if got := reason(err); got != "database cannot commit: disk full" {
		t.Errorf("a full disk: reason %q (%v)", got, err)
	}
}
