//go:build linux

package live

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(small, []byte("a\r\nb"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, host.MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr error
	}{
		{"a small file is read byte for byte", small, "a\r\nb", nil},
		{"a missing file is not found", filepath.Join(dir, "nope"), "", host.ErrNotFound},
		{"a file over the limit is too large", big, "", host.ErrTooLarge},
		{"a proc file with size zero is read whole", "/proc/self/status", "Name:", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Host{}.ReadFile(tc.path)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if !strings.HasPrefix(string(got), tc.want) {
				t.Errorf("got %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestStatGlobReadDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b", "a"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	h := Host{}
	t.Run("a symlink is described with its target", func(t *testing.T) {
		fi, err := h.Stat(filepath.Join(dir, "link"))
		if err != nil || fi.Link != "a" || fi.Mode&os.ModeSymlink == 0 {
			t.Errorf("Stat = %+v, %v", fi, err)
		}
	})
	t.Run("a missing path is not found", func(t *testing.T) {
		if _, err := h.Stat(filepath.Join(dir, "nope")); !errors.Is(err, host.ErrNotFound) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("glob returns sorted matches", func(t *testing.T) {
		got, err := h.Glob(filepath.Join(dir, "[ab]"))
		if diff := cmp.Diff([]string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, got); diff != "" || err != nil {
			t.Errorf("Glob (-want +got):\n%s %v", diff, err)
		}
	})
	t.Run("a directory lists sorted names", func(t *testing.T) {
		got, err := h.ReadDir(dir)
		if diff := cmp.Diff([]string{"a", "b", "link"}, got); diff != "" || err != nil {
			t.Errorf("ReadDir (-want +got):\n%s %v", diff, err)
		}
	})
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	h := Host{}
	t.Run("a relative program name is refused", func(t *testing.T) {
		if _, err := h.Run(ctx, "sh", "-c", "true"); err == nil || !strings.Contains(err.Error(), "absolute path") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("a program that is not installed is not found", func(t *testing.T) {
		if _, err := h.Run(ctx, "/usr/bin/postern-no-such-tool"); !errors.Is(err, host.ErrNotFound) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("a non-zero exit is reported, not an error", func(t *testing.T) {
		out, err := h.Run(ctx, "/bin/sh", "-c", "printf out; printf err >&2; exit 3")
		if err != nil || string(out.Stdout) != "out" || string(out.Stderr) != "err" || out.ExitCode != 3 {
			t.Errorf("Run = %+v, %v", out, err)
		}
	})
	t.Run("the environment is minimal and in the C locale", func(t *testing.T) {
		t.Setenv("POSTERN_SECRET", "x")
		out, err := h.Run(ctx, "/usr/bin/env")
		if err != nil {
			t.Fatal(err)
		}
		env := string(out.Stdout)
		if !strings.Contains(env, "LC_ALL=C\n") || strings.Contains(env, "POSTERN_SECRET") {
			t.Errorf("environment = %q", env)
		}
	})
	t.Run("a program outliving its deadline times out", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := h.Run(cctx, "/bin/sleep", "30"); !errors.Is(err, host.ErrTimeout) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("output over the limit is too large", func(t *testing.T) {
		out, err := h.Run(ctx, "/usr/bin/head", "-c", "5000000", "/dev/zero")
		if !errors.Is(err, host.ErrTooLarge) || len(out.Stdout) != host.MaxOutputSize {
			t.Errorf("Run = %d bytes, %v", len(out.Stdout), err)
		}
	})
	t.Run("registry and WMI are not supported", func(t *testing.T) {
		if _, err := h.Registry(`HKLM\X`, "Y"); !errors.Is(err, host.ErrNotSupported) {
			t.Errorf("Registry error = %v", err)
		}
		if _, err := h.WMI(ctx, `root\cimv2`, "SELECT * FROM Win32_OperatingSystem"); !errors.Is(err, host.ErrNotSupported) {
			t.Errorf("WMI error = %v", err)
		}
	})
}
