package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// startTimeout bounds initdb plus the server's start.
const startTimeout = 2 * time.Minute

// superuser is the cluster's superuser role; it authenticates with trust,
// which is safe only because the socket lives in a private directory.
const superuser = "postgres"

var (
	mu      sync.Mutex
	inMain  bool
	srv     *server
	srvErr  error
	dbCount int
)

// Main runs the tests and then stops the server if a test started one. Use
// it as os.Exit(pgtest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
		srv = nil
	}
	return code
}

// DSN returns a key=value connection string to a new, empty database that
// is dropped when the test ends. The first call starts the server.
func DSN(t testing.TB) string {
	t.Helper()
	bin, err := findBinaries()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v; CI must install PostgreSQL (Debian package postgresql)", err)
		}
		t.Skipf("pgtest: %v; install PostgreSQL (Debian: apt-get install postgresql) to run the PostgreSQL store tests", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !inMain {
		t.Fatal("pgtest: call pgtest.Main from the package's TestMain, which stops the server")
	}
	if srv == nil && srvErr == nil {
		srv, srvErr = start(bin)
	}
	if srvErr != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", srvErr)
	}
	dbCount++
	name := fmt.Sprintf("t%d_%s", dbCount, dbName(t.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	s := srv
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections a test left open, so a leak shows in the
		// test that leaked rather than as a failure to drop.
		if _, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return s.dsn(name)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName turns a test name into a short identifier that needs no quoting
// rules beyond double quotes.
func dbName(test string) string {
	n := unsafeName.ReplaceAllString(strings.ToLower(test), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	return n
}

// server is a running cluster.
type server struct {
	dir   string // holds data/, the socket and the log
	cmd   *exec.Cmd
	exit  chan error // receives cmd.Wait's result once
	admin *sql.DB
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", s.dir, superuser, db)
}

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	if runtime.GOOS == "windows" {
		return "", errors.New("the PostgreSQL test server runs on Unix only")
	}
	var candidates []string
	if d := os.Getenv("POSTERN_PG_BIN"); d != "" {
		candidates = append(candidates, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	// Debian and Ubuntu keep the server binaries off PATH.
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgVersion(versions[i]) > pgVersion(versions[j]) })
	candidates = append(candidates, versions...)
	for _, d := range candidates {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL binaries (initdb and postgres) on PATH, in $POSTERN_PG_BIN or in /usr/lib/postgresql/*/bin")
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// start makes a cluster in a new temporary directory and starts it.
func start(bin string) (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// A short path under the system temp directory: a Unix socket path
	// is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir}
	ok := false
	defer func() {
		if !ok {
			s.stop()
		}
	}()
	owner, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if err := owner.chown(dir); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	owner.apply(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Durability settings are off: the cluster lives for one test binary.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-p", "5432",
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	owner.apply(s.cmd)
	stopWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s.exit = make(chan error, 1)
	go func() { s.exit <- s.cmd.Wait() }()
	s.admin = stdlibOpen(s.dsn("postgres"))
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := s.admin.PingContext(pctx)
		pcancel()
		if err == nil {
			break
		}
		select {
		case werr := <-s.exit:
			s.exit <- werr
			return nil, fmt.Errorf("postgres exited: %v\n%s", werr, s.log())
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres not ready after %v: %v\n%s", startTimeout, err, s.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
	ok = true
	return s, nil
}

func stdlibOpen(dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		// The driver is registered by the stdlib import; Open does not
		// connect, so this cannot fail.
		panic(err)
	}
	return db
}

func (s *server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

// stop shuts the server down fast and removes its directory.
func (s *server) stop() error {
	var errs []error
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		// SIGINT is PostgreSQL's fast shutdown: it ends the sessions and
		// stops without waiting for clients.
		if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
			s.cmd.Process.Kill()
		}
		select {
		case <-s.exit:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exit
			errs = append(errs, errors.New("postgres did not stop within 30s; killed"))
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
