package host

import (
	"strings"
	"sync"
	"time"
)

// SnapshotFormat and SnapshotVersion identify the snapshot format described
// in docs/snapshot.md. A reader refuses other formats and newer versions.
const (
	SnapshotFormat  = "postern-snapshot"
	SnapshotVersion = 1
)

// Bounds on a snapshot being opened, so that a hostile or corrupt bundle
// cannot exhaust memory or write outside its directory.
const (
	// MaxSnapshotBytes bounds the sum of all files in a snapshot.
	MaxSnapshotBytes = 128 << 20
	// MaxSnapshotEntries bounds the number of files in a snapshot and the
	// number of answers in its manifest.
	MaxSnapshotEntries = 20000
	// MaxManifestSize bounds manifest.json.
	MaxManifestSize = 16 << 20
)

// SnapshotMeta describes a snapshot: its format version and the machine
// and agent that recorded it.
type SnapshotMeta struct {
	FormatVersion int       `json:"version"`
	GOOS          string    `json:"goos"`
	Arch          string    `json:"arch,omitempty"`
	Hostname      string    `json:"hostname,omitempty"`
	RecordedAt    time.Time `json:"recorded_at"`
	AgentVersion  string    `json:"agent_version,omitempty"`
}

type fileAnswer struct {
	data []byte
	err  *recordedError
}

type statAnswer struct {
	info FileInfo
	err  *recordedError
}

type listAnswer struct {
	names []string
	err   *recordedError
}

type runAnswer struct {
	argv []string
	out  Output
	err  *recordedError
}

type registryAnswer struct {
	key, name string
	value     RegistryValue
	err       *recordedError
}

type wmiAnswer struct {
	namespace, query string
	// rows is the JSON array of rows, decoded afresh (numbers as
	// json.Number) for each caller so that no two callers share maps.
	rows []byte
	err  *recordedError
}

// answers is the in-memory content of a snapshot, shared by the Recorder
// (which fills it), the Replayer and the Fake (which answer from it).
type answers struct {
	mu       sync.RWMutex
	files    map[string]fileAnswer
	stats    map[string]statAnswer
	globs    map[string]listAnswer
	dirs     map[string]listAnswer
	runs     map[string]runAnswer
	registry map[string]registryAnswer
	wmi      map[string]wmiAnswer
}

func newAnswers() *answers {
	return &answers{
		files:    map[string]fileAnswer{},
		stats:    map[string]statAnswer{},
		globs:    map[string]listAnswer{},
		dirs:     map[string]listAnswer{},
		runs:     map[string]runAnswer{},
		registry: map[string]registryAnswer{},
		wmi:      map[string]wmiAnswer{},
	}
}

func (a *answers) count() int {
	return len(a.files) + len(a.stats) + len(a.globs) + len(a.dirs) + len(a.runs) + len(a.registry) + len(a.wmi)
}

// argvKey joins a command line so that no two different argv collide.
func argvKey(argv []string) string { return strings.Join(argv, "\x00") }

// registryKey is case-insensitive, like the Windows registry.
func registryKey(key, name string) string {
	return strings.ToLower(strings.TrimRight(key, `\`)) + "\x00" + strings.ToLower(name)
}

// wmiKey ignores the namespace's case, as WMI does.
func wmiKey(namespace, query string) string {
	return strings.ToLower(namespace) + "\x00" + query
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
