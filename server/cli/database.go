package cli

import (
	"context"
	"errors"
	"os/user"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// StoreOptions select the store a command opens, as serve selects its
// own: PostgreSQL from --database, --database-file or
// $POSTERN_DATABASE_URL (in that order), otherwise the SQLite database in
// --data. The data directory also holds the CA and the audit key, which
// some commands need whatever the database.
type StoreOptions struct {
	DataDir, Database, DatabaseFile string
}

// stringFlags is the part of a cobra flag set used here.
type stringFlags interface {
	StringVar(p *string, name, value, usage string)
}

func (o *StoreOptions) register(f stringFlags) {
	f.StringVar(&o.DataDir, "data", serve.DefaultDataDir(), "data directory of the server (created only by serve --init)")
	databaseFlags(f, &o.Database, &o.DatabaseFile)
}

// databaseFlags are the flags selecting PostgreSQL, shared with serve.
func databaseFlags(f stringFlags, database, databaseFile *string) {
	f.StringVar(database, "database", "", "PostgreSQL connection string (default: SQLite in the data directory; prefer --database-file or $"+serve.EnvDatabaseURL+" for a password)")
	f.StringVar(databaseFile, "database-file", "", "file holding the PostgreSQL connection string")
}

// config is the part of serve's configuration that selects the store.
func (o StoreOptions) config(f *Factory) serve.Config {
	c := serve.Config{DataDir: o.DataDir, Database: o.Database, DatabaseFile: o.DatabaseFile}
	if c.Database == "" && c.DatabaseFile == "" {
		c.Database = f.Getenv(serve.EnvDatabaseURL)
	}
	return c
}

// server is one existing server as a command sees it: its store, its data
// directory and its audit log, keyed with the data directory's audit key
// so that every row the command appends is authenticated like the
// server's own.
type server struct {
	store.Store
	dataDir string
	audit   *audit.Log
}

// openStore opens the store of the existing server o selects (it refuses
// a directory or database that holds no server: serve.OpenExisting) with
// its audit log. A data directory without an audit key (a server not yet
// upgraded) keeps an unkeyed log; the audit package refuses to append to a
// chain keyed elsewhere.
func (f *Factory) openStore(ctx context.Context, o StoreOptions) (*server, error) {
	st, err := serve.OpenExisting(ctx, o.config(f))
	if err != nil {
		return nil, err
	}
	l := audit.New(st, f.Now, nil)
	kr, err := audit.LoadKeyring(o.DataDir)
	switch {
	case errors.Is(err, audit.ErrNoKey):
	case err != nil:
		st.Close()
		return nil, err
	default:
		l.Keyed(kr)
	}
	return &server{Store: st, dataDir: o.DataDir, audit: l}, nil
}

// withStore opens the server for one command and closes it after fn.
func (f *Factory) withStore(ctx context.Context, o StoreOptions, fn func(*server) error) error {
	s, err := f.openStore(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// auditAdmin records an administrator's action taken on this machine;
// the actor is the operating-system account that ran the command.
func (s *server) auditAdmin(ctx context.Context, kind string, details any) error {
	_, err := s.audit.Append(ctx, audit.Entry{Actor: osActor(), Kind: kind, Details: details})
	return err
}

func osActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return "os:unknown"
}
