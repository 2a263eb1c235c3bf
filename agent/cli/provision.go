package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/installer/service"
)

// Provisioning files a configuration-management tool (Ansible, Puppet,
// an MDM's file drop) leaves in service.ProvisionDir for the Linux
// service: the server's address and a one-time token or reusable
// enrollment secret. The package's post-install script never enrolls;
// the running service picks them up, whether they arrived before or after
// the package, and enrolls with the same retries and `status` as an MSI
// install.
const (
	ProvisionServerFile = "server"
	ProvisionTokenFile  = "enroll.token"
)

// provisionDirFor is where the service looks for provisioning files on
// goos; empty where installers hand the enrollment over themselves (the
// MSI's SECRET, macOS install.sh).
func provisionDirFor(goos string) string {
	if goos == "linux" {
		return service.ProvisionDir
	}
	return ""
}

var defaultProvisionDir = provisionDirFor(runtime.GOOS)

// removeFile deletes a used token file; tests make it fail.
var removeFile = os.Remove

// importProvision turns provisioning files in dir into the pending
// enrollment the service carries out, and deletes the token file: the
// secret then lives only in the state directory (0600), until the device
// is enrolled. It reports whether a new pending enrollment was stored.
// Files being half-written (either missing, or empty) are left for the
// next look.
func importProvision(dir string, st *state.Dir, now time.Time) (bool, error) {
	if dir == "" {
		return false, nil
	}
	tokenFile := filepath.Join(dir, ProvisionTokenFile)
	server, err := firstLine(filepath.Join(dir, ProvisionServerFile))
	if err != nil || server == "" {
		return false, err
	}
	secret, err := firstLine(tokenFile)
	if err != nil || secret == "" {
		return false, err
	}
	cur, err := st.PendingEnrollment()
	if err != nil {
		return false, err
	}
	imported := false
	if cur == nil || cur.Server != server || cur.Secret != secret {
		if err := st.SetPendingEnrollment(state.PendingEnrollment{Server: server, Secret: secret, SavedAt: now.UTC()}); err != nil {
			return false, err
		}
		imported = true
	}
	if err := removeFile(tokenFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Imported all the same; the same file is not imported twice.
		return imported, fmt.Errorf("delete the used %s: %w", tokenFile, err)
	}
	return imported, nil
}

// dropProvisionToken deletes a token file left beside an enrolled device:
// it is of no further use, and a reusable secret should not lie around.
func dropProvisionToken(dir string) error {
	if dir == "" {
		return nil
	}
	f := filepath.Join(dir, ProvisionTokenFile)
	if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", f, err)
	}
	return nil
}

// firstLine is a provisioning file's first line without blanks; a missing
// file is empty.
func firstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read provisioning file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line), nil
}
