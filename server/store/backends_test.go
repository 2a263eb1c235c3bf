package store

import (
	"context"
	"os"
	"testing"

	"github.com/postern-dev/postern/server/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backend opens stores of one kind. A place is where a store keeps its
// data: a directory for SQLite, a connection string for PostgreSQL.
type backend struct {
	name string
	// place returns a new, empty place that lives as long as the test.
	place func(t testing.TB) string
	open  func(ctx context.Context, place string) (Store, error)
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return t.TempDir() }, OpenSQLite},
	{"postgres", pgtest.DSN, OpenPostgres},
}

// forEachBackend runs test once on every backend, as subtests named after
// them.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// openNew opens a store at a new place; it is closed when the test ends.
func (b backend) openNew(t testing.TB) Store {
	t.Helper()
	return b.openAt(t, b.place(t))
}

// openAt opens the store at place; it is closed when the test ends.
func (b backend) openAt(t testing.TB, place string) Store {
	t.Helper()
	s, err := b.open(context.Background(), place)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ForEachBackend runs test on a new store of every backend, for the
// package's external tests.
func ForEachBackend(t *testing.T, test func(t *testing.T, s Store)) {
	forEachBackend(t, func(t *testing.T, b backend) { test(t, b.openNew(t)) })
}
