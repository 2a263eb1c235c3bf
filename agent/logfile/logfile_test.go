package logfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.log")
	l, err := Open(path, 20, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"line-1 ........\n", "line-2 ........\n", "line-3 ........\n", "line-4 ........\n"} {
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "<missing>"
		}
		return strings.TrimSpace(string(b))
	}
	t.Run("each file holds what fits under the limit and the oldest generation is dropped", func(t *testing.T) {
		got := []string{read("agent.log"), read("agent.log.1"), read("agent.log.2"), read("agent.log.3")}
		want := []string{"line-4 ........", "line-3 ........", "line-2 ........", "<missing>"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("the log is readable by its owner only", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix modes")
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", fi.Mode().Perm())
		}
	})
	t.Run("reopening appends and counts the existing size", func(t *testing.T) {
		l, err := Open(path, 20, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, err := l.Write([]byte("xxxxx\n")); err != nil {
			t.Fatal(err)
		}
		if got := read("agent.log"); got != "xxxxx" || read("agent.log.1") != "line-4 ........" {
			t.Errorf("agent.log = %q after reopen", got)
		}
	})
	t.Run("writing to a closed file is an error", func(t *testing.T) {
		if _, err := l.Write([]byte("late")); err == nil {
			t.Error("no error")
		}
	})
}
