//go:build !windows

package serve

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// permissionFindings says what is wrong with p's mode and owner.
func permissionFindings(p string, fi fs.FileInfo) []error {
	var out []error
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		out = append(out, fmt.Errorf("%s is writable by group or others (mode %v)", p, perm))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := os.Geteuid(); int(st.Uid) != uid {
			out = append(out, fmt.Errorf("%s is owned by uid %d, not by the server's uid %d", p, st.Uid, uid))
		}
	}
	return out
}
