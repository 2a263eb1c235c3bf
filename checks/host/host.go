// Package host is the one narrow door through which collectors read the
// machine: files under a root, directory listings, commands by absolute path
// with a deadline, Windows registry values and WMI queries. It defines the
// interface, its sentinel errors, and the Recorder and Replayer that make
// snapshots; the real implementation for each OS lives in package
// checks/host/live so that the server never links OS-specific code.
//
// Every method is safe for concurrent use.
package host

import (
	"context"
	"errors"
	"io/fs"
	"time"
)

// Host answers the questions collectors ask of a machine.
type Host interface {
	// GOOS names the operating system this host is (or was, when replayed).
	GOOS() string
	// ReadFile returns at most MaxFileSize bytes of the file at path.
	// A missing file is ErrNotFound.
	ReadFile(path string) ([]byte, error)
	// Stat describes the file at path without following a final symlink's
	// target content. A missing file is ErrNotFound.
	Stat(path string) (FileInfo, error)
	// Glob returns the paths matching pattern (path.Match syntax), sorted.
	Glob(pattern string) ([]string, error)
	// ReadDir lists the names in the directory at path, sorted.
	ReadDir(path string) ([]string, error)
	// Run runs the program at the absolute path name with args and returns
	// its output. A program that is not installed is ErrNotFound; one that
	// outlives ctx is ErrTimeout. A non-zero exit is not an error: it is in
	// Output.ExitCode.
	Run(ctx context.Context, name string, args ...string) (Output, error)
	// Registry reads one value of the Windows registry, e.g.
	// key `HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\DomainProfile`,
	// name `EnableFirewall`. Other OSes answer ErrNotSupported.
	Registry(key, name string) (RegistryValue, error)
	// WMI runs a WQL query in namespace (e.g. `root\SecurityCenter2`) and
	// returns each row's properties. Other OSes answer ErrNotSupported.
	WMI(ctx context.Context, namespace, query string) ([]map[string]any, error)
}

// MaxFileSize bounds ReadFile answers so a hostile or huge file cannot
// exhaust the agent's memory.
const MaxFileSize = 4 << 20

// MaxOutputSize bounds each of a command's stdout and stderr.
const MaxOutputSize = 4 << 20

// DefaultCommandTimeout is used by collectors for one command unless they
// have a reason to wait longer.
const DefaultCommandTimeout = 10 * time.Second

// FileInfo is the portable subset of fs.FileInfo that snapshots keep.
type FileInfo struct {
	Name    string      `json:"name"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mod_time"`
	// Link is the target of a symbolic link, empty for other files.
	Link string `json:"link,omitempty"`
}

// IsDir reports whether the file is a directory.
func (f FileInfo) IsDir() bool { return f.Mode.IsDir() }

// Output is what a command printed and how it exited.
type Output struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// RegistryValue is one typed registry value.
type RegistryValue struct {
	// Type is the registry type name: REG_SZ, REG_EXPAND_SZ, REG_DWORD,
	// REG_QWORD, REG_MULTI_SZ or REG_BINARY.
	Type    string   `json:"type"`
	String  string   `json:"string,omitempty"`
	Strings []string `json:"strings,omitempty"`
	Integer uint64   `json:"integer,omitempty"`
	Binary  []byte   `json:"binary,omitempty"`
}

// Sentinel errors. Collectors compare with errors.Is and turn each into an
// "unknown" status with a precise reason; none of them means non-compliant.
var (
	// ErrNotFound: the file, program, registry key or value does not exist
	// (or a replayed snapshot did not record it).
	ErrNotFound = errors.New("not found")
	// ErrPermission: the agent lacks the rights to read it.
	ErrPermission = errors.New("permission denied")
	// ErrTimeout: the command did not finish before its deadline.
	ErrTimeout = errors.New("timed out")
	// ErrNotSupported: the primitive does not exist on this OS.
	ErrNotSupported = errors.New("not supported on this operating system")
	// ErrTooLarge: the file or output exceeded its size limit.
	ErrTooLarge = errors.New("exceeds size limit")
)
