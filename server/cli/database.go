package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// storeOptions select the store a command opens, as serve selects its
// own: PostgreSQL from --database, --database-file or
// $POSTERN_DATABASE_URL (in that order), otherwise the SQLite database in
// --data. The data directory also holds the CA, which token create needs
// whatever the database.
type storeOptions struct {
	dataDir, database, databaseFile string
}

// stringFlags is the part of a cobra flag set used here.
type stringFlags interface {
	StringVar(p *string, name, value, usage string)
}

func (o *storeOptions) register(f stringFlags) {
	f.StringVar(&o.dataDir, "data", serve.DefaultDataDir(), "data directory of the server (created only by serve --init)")
	databaseFlags(f, &o.database, &o.databaseFile)
}

// databaseFlags are the flags selecting PostgreSQL, shared with serve.
func databaseFlags(f stringFlags, database, databaseFile *string) {
	f.StringVar(database, "database", "", "PostgreSQL connection string (default: SQLite in the data directory; prefer --database-file or $"+serve.EnvDatabaseURL+" for a password)")
	f.StringVar(databaseFile, "database-file", "", "file holding the PostgreSQL connection string")
}

// dataFlag adds the store flags to cmd and its subcommands.
func dataFlag(cmd *cobra.Command, dst *storeOptions) {
	dst.register(cmd.PersistentFlags())
}

// config is the part of serve's configuration that selects the store.
func (o storeOptions) config(d *deps) serve.Config {
	c := serve.Config{DataDir: o.dataDir, Database: o.database, DatabaseFile: o.databaseFile}
	if c.Database == "" && c.DatabaseFile == "" {
		c.Database = d.getenv(serve.EnvDatabaseURL)
	}
	return c
}

// openStore opens the store of the existing server o selects (it refuses
// a directory or database that holds no server: serve.OpenExisting), and
// loads the data directory's audit key for the rows the command appends.
func openStore(ctx context.Context, d *deps, o storeOptions) (store.Store, error) {
	st, err := serve.OpenExisting(ctx, o.config(d))
	if err != nil {
		return nil, err
	}
	if err := loadAuditKeys(d, o); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// withStore opens the store for one command.
func withStore(ctx context.Context, d *deps, o storeOptions, fn func(store.Store) error) error {
	st, err := openStore(ctx, d, o)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
