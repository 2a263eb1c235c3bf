package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// Host is the real machine.
type Host struct{}

var (
	_ host.Host   = Host{}
	_ host.Archer = Host{}
)

// New returns the real host.
func New() host.Host { return Host{} }

// GOOS returns the operating system the agent runs on.
func (Host) GOOS() string { return runtime.GOOS }

// Arch returns the architecture the agent was built for.
func (Host) Arch() string { return runtime.GOARCH }

// ReadFile reads at most host.MaxFileSize bytes of the file at path; a
// larger file is host.ErrTooLarge.
func (Host) ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mapFSError(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, host.MaxFileSize+1))
	if err != nil {
		return nil, mapFSError(fmt.Errorf("read %s: %w", path, err))
	}
	if len(b) > host.MaxFileSize {
		return nil, fmt.Errorf("read %s: %w (%d bytes)", path, host.ErrTooLarge, host.MaxFileSize)
	}
	return b, nil
}

// Stat describes path without following a final symlink, whose target is
// in Link.
func (Host) Stat(path string) (host.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return host.FileInfo{}, mapFSError(err)
	}
	out := host.FileInfo{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime().UTC()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if out.Link, err = os.Readlink(path); err != nil {
			return host.FileInfo{}, mapFSError(err)
		}
	}
	return out, nil
}

// Glob returns the sorted paths matching pattern.
func (Host) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	sort.Strings(m)
	return m, nil
}

// ReadDir lists the sorted names in the directory at path.
func (Host) ReadDir(path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, mapFSError(err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

// waitDelay bounds how long Run waits for a killed program's pipes.
const waitDelay = 2 * time.Second

// Run runs the program at the absolute path name with a minimal
// environment and no standard input. stdout and stderr are each bounded by
// host.MaxOutputSize; beyond that the result is host.ErrTooLarge.
func (Host) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	if !filepath.IsAbs(name) {
		return host.Output{}, fmt.Errorf("run %q: the program must be given by absolute path", name)
	}
	if _, err := os.Stat(name); err != nil {
		return host.Output{}, mapFSError(err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = minimalEnv()
	cmd.WaitDelay = waitDelay
	configure(cmd)
	stdout := &boundedBuffer{max: host.MaxOutputSize}
	stderr := &boundedBuffer{max: host.MaxOutputSize}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	out := host.Output{Stdout: stdout.bytes(), Stderr: stderr.bytes()}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return out, host.Wrap(host.ErrTimeout, fmt.Errorf("run %s: %w", name, ctxErr))
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.As(err, &exitErr):
	default:
		return out, mapFSError(fmt.Errorf("run %s: %w", name, err))
	}
	if stdout.overflow || stderr.overflow {
		return out, fmt.Errorf("run %s: output %w (%d bytes)", name, host.ErrTooLarge, host.MaxOutputSize)
	}
	return out, nil
}

// mapFSError keeps err's text and adds the matching host sentinel.
func mapFSError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, exec.ErrNotFound):
		return host.Wrap(host.ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return host.Wrap(host.ErrPermission, err)
	}
	return err
}

// boundedBuffer keeps the first max bytes written and notes any more.
type boundedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.overflow = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *boundedBuffer) bytes() []byte {
	if b.buf.Len() == 0 {
		return nil
	}
	return b.buf.Bytes()
}
