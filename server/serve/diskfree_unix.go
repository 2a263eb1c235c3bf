//go:build linux || darwin || freebsd || openbsd || netbsd

package serve

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// diskFree returns the bytes an unprivileged writer may still use on
// dir's filesystem.
func diskFree(dir string) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return uint64(fs.Bavail) * uint64(fs.Bsize), nil
}
