package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestServeDatabaseSelection(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(conf, []byte("data_dir: "+dir+"\ndatabase_file: /etc/postern/database-url\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const fromEnv = "postgres://env-host/postern"
	tests := []struct {
		name             string
		env              string
		args             []string
		wantDB, wantFile string
	}{
		{"by default the database is SQLite", "", []string{"--data", dir}, "", ""},
		{"the environment selects PostgreSQL", fromEnv, []string{"--data", dir}, fromEnv, ""},
		{"a flag overrides the environment", fromEnv, []string{"--data", dir, "--database", "postgres://flag-host/postern"}, "postgres://flag-host/postern", ""},
		{"a file flag overrides the environment", fromEnv, []string{"--data", dir, "--database-file", "/run/secrets/db"}, "", "/run/secrets/db"},
		{"the config file's choice is kept without flag or environment", "", []string{"--config", conf}, "", "/etc/postern/database-url"},
		{"the environment overrides the config file", fromEnv, []string{"--config", conf}, fromEnv, ""},
		{"a flag overrides the config file", "", []string{"--config", conf, "--database", "host=db dbname=postern"}, "host=db dbname=postern", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}, Now: clock.Now,
				Getenv: func(k string) string {
					if k == serve.EnvDatabaseURL {
						return tt.env
					}
					return ""
				}}
			var got serve.Config
			cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o.Config; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.Database != tt.wantDB || got.DatabaseFile != tt.wantFile {
				t.Errorf("database %q, database_file %q; want %q, %q", got.Database, got.DatabaseFile, tt.wantDB, tt.wantFile)
			}
		})
	}
	t.Run("a database and a database file together are refused", func(t *testing.T) {
		_, _, code := run(t, "serve", "--data", dir, "--database", "postgres://db/p", "--database-file", "/run/secrets/db")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
}

// TestCommandsShareThePostgresStore runs the administration commands
// against one PostgreSQL database, chosen three ways, with two different
// data directories: what one command writes, the others see.
func TestCommandsShareThePostgresStore(t *testing.T) {
	dsn := pgtest.DSN(t)
	dsnFile := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	mustRun := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errOut, code := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		return out
	}
	mustRun(t, "init", "--data", dirA, "--database", dsn)
	mustRun(t, "token", "create", "--data", dirA, "--database", dsn, "--org", "clinic")
	mustRun(t, "apikey", "create", "--name", "nginx", "--data", dirA, "--database-file", dsnFile)
	// Commands append to the keyed audit log, so every data directory
	// that runs them holds the audit key, as every replica's does.
	key, err := os.ReadFile(audit.KeyPath(dirA))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(audit.KeyPath(dirB), key, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(serve.EnvDatabaseURL, dsn)
	mustRun(t, "user", "add", "ana", "--role", "admin", "--first-name", "Ana", "--last-name", "Lima", "--data", dirB)

	t.Run("the API key made with the file is listed through the environment", func(t *testing.T) {
		if out := mustRun(t, "apikey", "list", "--data", dirB); !strings.Contains(out, "nginx") {
			t.Errorf("apikey list:\n%s", out)
		}
	})
	t.Run("the user made through the environment is listed with the flag", func(t *testing.T) {
		if out := mustRun(t, "user", "list", "--data", dirA, "--database", dsn); !strings.Contains(out, "ana") {
			t.Errorf("user list:\n%s", out)
		}
	})
	t.Run("the audit log holds every command's entry in one chain", func(t *testing.T) {
		out := mustRun(t, "audit", "export", "--data", dirB)
		var kinds []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var row struct {
				Kind string `json:"kind"`
			}
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("export line %q: %v", line, err)
			}
			kinds = append(kinds, row.Kind)
		}
		if want := "audit_key_started server_initialised token_created apikey_created user_created"; strings.Join(kinds, " ") != want {
			t.Errorf("audit kinds = %v, want %s", kinds, want)
		}
		mustRun(t, "audit", "verify", "--data", dirA)
	})
	t.Run("no SQLite database was made in either data directory", func(t *testing.T) {
		for _, dir := range []string{dirA, dirB} {
			if _, err := os.Stat(filepath.Join(dir, "postern.db")); !os.IsNotExist(err) {
				t.Errorf("%s: %v", dir, err)
			}
		}
	})
}
