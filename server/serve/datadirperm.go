package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// ErrInsecureDataDir is returned when the data directory, or a secret in
// it, could be replaced or read by someone other than the server's
// account: whoever can write there can swap the CA key, the audit key or
// the database.
var ErrInsecureDataDir = errors.New("insecure data directory")

// secretFiles are the data directory's files that must be the server's
// alone.
var secretFiles = []string{ca.CAKeyFile, ca.ServerKeyFile, audit.KeyFile, store.DBFile, users.MFAKeyFile}

// checkDataDir refuses a data directory writable by group or others or
// owned by another account, and the same of the secrets in it. With allow
// (serve --allow-insecure-data-dir) each finding is logged as a warning
// instead. A directory that does not exist yet is created 0700 later.
func checkDataDir(dir string, allow bool, log *slog.Logger) error {
	var findings []error
	for _, p := range append([]string{dir}, secretPaths(dir)...) {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check data directory: %w", err)
		}
		findings = append(findings, permissionFindings(p, fi)...)
	}
	if len(findings) == 0 {
		return nil
	}
	if allow {
		for _, f := range findings {
			log.Warn("insecure data directory accepted (--allow-insecure-data-dir)", "finding", f.Error())
		}
		return nil
	}
	return fmt.Errorf("%w: %w (fix it, e.g. chown -R the server's account and chmod 700 the directory, or start with --allow-insecure-data-dir)",
		ErrInsecureDataDir, errors.Join(findings...))
}

func secretPaths(dir string) []string {
	out := make([]string, len(secretFiles))
	for i, f := range secretFiles {
		out[i] = filepath.Join(dir, f)
	}
	return out
}
