//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// account is who runs initdb and postgres: the current user, or under
// root an unprivileged account (initdb refuses root).
type account struct {
	drop     bool
	uid, gid uint32
}

func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return account{drop: true, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return account{}, fmt.Errorf("running as root and neither a postgres nor a nobody account exists to run PostgreSQL")
}

// chown gives dir to the account; the directory stays mode 0700, so only
// it (and root) can reach the socket.
func (a account) chown(dir string) error {
	if !a.drop {
		return nil
	}
	if err := os.Chown(dir, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("give the test cluster's directory to uid %d: %w", a.uid, err)
	}
	return nil
}

func (a account) apply(cmd *exec.Cmd) {
	if !a.drop {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: []uint32{}}
}
