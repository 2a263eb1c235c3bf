//go:build unix

package dirowner

import (
	"fmt"
	"os"
	"syscall"
)

// Match chowns f to the owner and group of dir when this process runs as
// root; otherwise the file is already the caller's, who owns or may
// write dir, and nothing changes.
func Match(f *os.File, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("owner of %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("give %s to the owner of %s: %w", f.Name(), dir, err)
	}
	return nil
}
