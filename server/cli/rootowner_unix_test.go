//go:build unix

package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCommandsRunAsRootLeaveTheDataDirectoryToItsOwner: admins run
// commands as root on /var/lib/postern-server, which belongs to the
// `postern` service user. A file such a command creates there (a rotated
// audit key, the MFA key, the CA and database of `init`) must go to the directory's owner, or
// the service, unable to read its own 0600 key, would not start.
func TestCommandsRunAsRootLeaveTheDataDirectoryToItsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs as root): only root can leave files owned by someone else")
	}
	const service = 65534 // nobody, standing in for postern
	// The directory exists and is the service's (the package's
	// StateDirectory=); root creates the server in it.
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, service, service); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, "init", "--data", dir); code != 0 {
		t.Fatalf("init: exit %d: %s %s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"secret", "create", "--org", "clinic-north", "--expires", "90d", "--max-uses", "500"},
		{"token", "create", "--org", "clinic-north"},
		{"apikey", "create", "--name", "nginx"},
		{"user", "add", "--role", "admin", "--first-name", "Ana", "--last-name", "Lima", "ana"},
		{"user", "mfa-require", "on"},
		{"audit", "rotate-key"},
	} {
		if out, errOut, code := run(t, append(args, "--data", dir)...); code != 0 {
			t.Fatalf("%v: exit %d: %s %s", args, code, out, errOut)
		}
	}
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != service || st.Gid != service {
			t.Errorf("%s is owned by %d:%d after commands run as root, want the service's %d:%d", p, st.Uid, st.Gid, service, service)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
