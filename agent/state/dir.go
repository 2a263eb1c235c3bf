package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/agent/internal/secdir"
)

// File names inside the state directory.
const (
	// KeyFile is a software device key (PEM, 0600).
	KeyFile = "device.key"
	// TPMKeyFile is a hardware device key: the TPM-wrapped blob, which
	// only the TPM that made it can load.
	TPMKeyFile = "device.tpmkey"
	// AgentSecretFile is the agent secret from enrollment (0600 in the
	// root/SYSTEM-only directory), proved on every connection so that
	// the device key alone, which the console user's browser may use,
	// does not make a connection the agent's.
	AgentSecretFile = "agent.secret"
	CertFile        = "device.pem"
	CAFile          = "ca.pem"
	IdentityFile    = "identity.json"
	StateFile       = "state.json"
	PolicyFile      = "policy.yaml"
	// PendingAttestationFile holds a user attestation not yet recorded by
	// the server. It is apart from state.json because `attest` writes it
	// while the service runs.
	PendingAttestationFile = "attestation_pending.json"
	// SpoolDir holds reports awaiting the server's ack (package agent/spool).
	SpoolDir = "spool"
)

// maxFileSize bounds every file this package reads, so a damaged or
// hostile file cannot exhaust memory.
const maxFileSize = 1 << 20

// DefaultDir returns the system location of the state directory for the
// running OS.
func DefaultDir() string {
	return defaultDirFor(runtime.GOOS, os.Getenv("ProgramData"))
}

func defaultDirFor(goos, programData string) string {
	switch goos {
	case "windows":
		if programData == "" {
			programData = `C:\ProgramData`
		}
		return programData + `\Postern`
	case "darwin":
		return "/Library/Application Support/Postern"
	default:
		return "/var/lib/postern"
	}
}

// Dir is an opened state directory. Its methods are safe for concurrent use
// within one process.
type Dir struct {
	path string
	mu   sync.Mutex // serialises read-modify-write of state.json

	keyMu sync.Mutex // guards store and hwKey
	store devkey.Store
	hwKey devkey.Key
}

// Open opens the state directory at path, creating it with mode 0700 when
// missing and tightening its mode to 0700 when it is wider.
func Open(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("open state dir: empty path")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("open state dir: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open state dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open state dir: %s is not a directory", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(path, 0o700); err != nil {
			return nil, fmt.Errorf("open state dir: tighten mode: %w", err)
		}
	}
	// Windows ignores the mode: replace the inherited ACL, which lets every
	// local user read %ProgramData%, so the device key stays private.
	if err := secdir.Restrict(path, false); err != nil {
		return nil, fmt.Errorf("open state dir: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// File returns the path of the named file inside the directory.
func (d *Dir) File(name string) string { return filepath.Join(d.path, name) }

func (d *Dir) write(name string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(d.File(name), data, perm)
}

// read returns the named file's content, at most maxFileSize bytes. A
// missing file is an error matching fs.ErrNotExist.
func (d *Dir) read(name string) ([]byte, error) {
	f, err := os.Open(d.File(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, maxFileSize)
	}
	return b, nil
}

func (d *Dir) exists(name string) (bool, error) {
	_, err := os.Stat(d.File(name))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// remove deletes the named file; a missing one is not an error.
func (d *Dir) remove(name string) error {
	err := os.Remove(d.File(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// writeJSON saves v as indented JSON in the named file, 0600; what names
// the record in errors.
func (d *Dir) writeJSON(name, what string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := d.write(name, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save %s: %w", what, err)
	}
	return nil
}

// readJSON loads the record writeJSON saved in the named file: nil when
// there is none, ErrCorrupt when it cannot be decoded.
func readJSON[T any](d *Dir, name, what string) (*T, error) {
	b, err := d.read(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("load %s: %w: %v", what, ErrCorrupt, err)
	}
	return &v, nil
}
