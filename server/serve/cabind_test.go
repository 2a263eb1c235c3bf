package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

func TestLoadCABindsTheDatabaseToOneCA(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st, err := store.OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := t.TempDir()
	created, err := LoadCA(t.Context(), st, first, now)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}

	t.Run("a second data directory without a CA is refused and left without one", func(t *testing.T) {
		dir := t.TempDir()
		_, err := LoadCA(t.Context(), st, dir, now)
		if err == nil || !strings.Contains(err.Error(), "holds no CA: copy ca.pem and ca.key") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, ca.CAFile)); err == nil {
			t.Error("a new CA was created anyway")
		}
	})
	t.Run("a different CA is refused", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := ca.LoadOrCreate(dir, now); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCA(t.Context(), st, dir, now); err == nil || !strings.Contains(err.Error(), "is not the one the database's devices were enrolled with") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a copy of the first CA is accepted", func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{ca.CAFile, ca.CAKeyFile} {
			b, err := os.ReadFile(filepath.Join(first, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, err := LoadCA(t.Context(), st, dir, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Pin() != created.Pin() {
			t.Error("a different CA was loaded")
		}
	})
}
