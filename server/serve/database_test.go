package serve

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestDatabaseSelection(t *testing.T) {
	const secret = "s3cret-pw"
	with := func(f func(c *Config)) Config {
		c := DefaultConfig()
		c.DataDir = "/tmp/x"
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"a PostgreSQL URL is accepted", with(func(c *Config) { c.Database = "postgres://postern:" + secret + "@db/postern" }), ""},
		{"key=value pairs are accepted", with(func(c *Config) { c.Database = "host=db dbname=postern password=" + secret }), ""},
		{"a database file is accepted", with(func(c *Config) { c.DatabaseFile = "/etc/postern/database-url" }), ""},
		{"a database and a database file together are refused", with(func(c *Config) {
			c.Database, c.DatabaseFile = "postgres://db/postern", "/etc/postern/database-url"
		}), "not both"},
		{"a connection string of another database is refused", with(func(c *Config) { c.Database = "mysql:" + secret + "@db" }), "not a PostgreSQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want mention of %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	t.Run("the config file selects the database", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "server.yaml")
		if err := os.WriteFile(p, []byte("data_dir: /srv/postern\ndatabase_file: /etc/postern/database-url\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfigFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DatabaseFile != "/etc/postern/database-url" || cfg.Database != "" {
			t.Errorf("database %q, database_file %q", cfg.Database, cfg.DatabaseFile)
		}
	})
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	t.Run("without a database the store is SQLite in the data directory", func(t *testing.T) {
		dir := t.TempDir()
		st, desc, err := OpenStore(ctx, Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, err := os.Stat(filepath.Join(dir, store.DBFile)); err != nil {
			t.Errorf("no SQLite database in the data directory: %v", err)
		}
		if desc != "sqlite "+filepath.Join(dir, store.DBFile) {
			t.Errorf("description = %q", desc)
		}
	})
	t.Run("a database file selects PostgreSQL and its password is not described", func(t *testing.T) {
		// The test cluster trusts local connections, so the password is
		// carried but not checked.
		dsn := pgtest.DSN(t) + " password=s3cret-pw"
		file := filepath.Join(t.TempDir(), "database-url")
		if err := os.WriteFile(file, []byte(dsn+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		st, desc, err := OpenStore(ctx, Config{DataDir: dir, DatabaseFile: file})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var _ store.Accounts = st // every Store has them: checked when compiling
		if !strings.HasPrefix(desc, "postgresql ") || strings.Contains(desc, "s3cret") {
			t.Errorf("description = %q", desc)
		}
		if _, err := os.Stat(filepath.Join(dir, store.DBFile)); !os.IsNotExist(err) {
			t.Errorf("a SQLite database was made too: %v", err)
		}
	})
	t.Run("an empty database file is an error, not SQLite", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "database-url")
		if err := os.WriteFile(file, []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenStore(ctx, Config{DataDir: t.TempDir(), DatabaseFile: file}); err == nil {
			t.Fatal("opened a store")
		}
	})
	t.Run("a missing database file is an error", func(t *testing.T) {
		if _, _, err := OpenStore(ctx, Config{DataDir: t.TempDir(), DatabaseFile: filepath.Join(t.TempDir(), "none")}); err == nil {
			t.Fatal("opened a store")
		}
	})
}

// TestReplicasServeFromOnePostgresDatabase runs two servers on one
// PostgreSQL database and one data directory (the CA they share), as two
// replicas behind a load balancer, and checks that their start-up writes
// (policy versions, audit rows) leave one intact audit chain.
func TestReplicasServeFromOnePostgresDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done []chan error
	for range 2 {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Database, cfg.QUICAddr, cfg.HTTPSAddr = dir, dsn, "127.0.0.1:0", "127.0.0.1:0"
		ready := make(chan struct{})
		errc := make(chan error, 1)
		go func() { errc <- Run(ctx, cfg, Options{Init: true, Ready: func(net.Addr, net.Addr) { close(ready) }}) }()
		select {
		case <-ready:
		case err := <-errc:
			t.Fatalf("serve: %v", err)
		}
		done = append(done, errc)
	}
	cancel()
	for _, errc := range done {
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, store.DBFile)); !os.IsNotExist(err) {
		t.Errorf("a SQLite database was made in the data directory: %v", err)
	}
	st, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr, err := audit.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.New(st, nil, nil).Keyed(kr).Verify(context.Background())
	if err != nil || !res.OK() || res.Rows == 0 || !res.Keyed {
		t.Fatalf("audit verify = %+v, %v", res, err)
	}
}
