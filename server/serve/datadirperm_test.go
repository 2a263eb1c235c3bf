//go:build !windows

package serve

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckDataDir(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr string
	}{
		{"a private directory is accepted", func(*testing.T, string) {}, ""},
		{"a directory writable by others is refused", func(t *testing.T, dir string) { chmod(t, dir, 0o777) }, "writable by group or others"},
		{"a directory writable by its group is refused", func(t *testing.T, dir string) { chmod(t, dir, 0o770) }, "writable by group or others"},
		{"a directory others may only read is accepted", func(t *testing.T, dir string) { chmod(t, dir, 0o755) }, ""},
		{"a CA key writable by others is refused", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "ca.key"), []byte("k"), 0o600)
			chmod(t, filepath.Join(dir, "ca.key"), 0o666)
		}, "ca.key is writable by group or others"},
		{"a directory owned by another account is refused", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("giving a directory away needs root (CI runs as root)")
			}
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			err := checkDataDir(dir, false, slog.New(slog.DiscardHandler))
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInsecureDataDir) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want ErrInsecureDataDir saying %q", err, tt.wantErr)
			}
			var logged bytes.Buffer
			if err := checkDataDir(dir, true, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
				t.Errorf("with --allow-insecure-data-dir: %v", err)
			}
			if !strings.Contains(logged.String(), tt.wantErr) {
				t.Errorf("with --allow-insecure-data-dir the log says %q, want a warning saying %q", logged.String(), tt.wantErr)
			}
		})
	}
	t.Run("serve refuses to start on a world-writable data directory", func(t *testing.T) {
		dir := t.TempDir()
		chmod(t, dir, 0o777)
		cfg := DefaultConfig()
		cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
		if err := Run(context.Background(), cfg, Options{}); !errors.Is(err, ErrInsecureDataDir) {
			t.Errorf("Run = %v, want ErrInsecureDataDir", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "ca.key")); !os.IsNotExist(err) {
			t.Errorf("a CA was created before refusing: %v", err)
		}
	})
}

func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
