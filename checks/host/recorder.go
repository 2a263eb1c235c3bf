package host

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/postern-dev/postern/internal/clock"
)

// Recorder is a Host that passes every question to an inner Host and keeps
// the answer, errors included, so that Save can write them as a snapshot.
// The first answer to a question is the one kept.
type Recorder struct {
	inner Host
	a     *answers

	mu   sync.Mutex
	meta SnapshotMeta
}

var (
	_ Host   = (*Recorder)(nil)
	_ Archer = (*Recorder)(nil)
)

// NewRecorder returns a Recorder wrapping inner. The snapshot's recorded_at
// is the time of this call.
func NewRecorder(inner Host) *Recorder {
	return &Recorder{
		inner: inner,
		a:     newAnswers(),
		meta: SnapshotMeta{
			FormatVersion: SnapshotVersion,
			GOOS:          inner.GOOS(),
			Arch:          Arch(inner),
			RecordedAt:    clock.Now().UTC().Truncate(time.Second),
		},
	}
}

// SetInfo records the device's hostname and the agent's version in the
// snapshot's metadata. Empty arguments leave the current value.
func (r *Recorder) SetInfo(hostname, agentVersion string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hostname != "" {
		r.meta.Hostname = hostname
	}
	if agentVersion != "" {
		r.meta.AgentVersion = agentVersion
	}
}

// Meta returns the metadata Save will write.
func (r *Recorder) Meta() SnapshotMeta {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.meta
}

// Save writes what was recorded as a snapshot at path: a .tar.gz (or .tgz)
// archive when path ends so, otherwise a new directory. It refuses to
// overwrite an existing file or a non-empty directory. Files are private
// to the user (0600), since a snapshot describes the machine in detail.
func (r *Recorder) Save(path string) error {
	return saveSnapshot(path, r.Meta(), r.a)
}

// GOOS returns the inner host's OS.
func (r *Recorder) GOOS() string { return r.inner.GOOS() }

// Arch returns the inner host's architecture, if it knows it.
func (r *Recorder) Arch() string { return Arch(r.inner) }

// ReadFile reads through the inner host and records the answer.
func (r *Recorder) ReadFile(path string) ([]byte, error) {
	data, err := r.inner.ReadFile(path)
	r.a.mu.Lock()
	if _, ok := r.a.files[path]; !ok {
		r.a.files[path] = fileAnswer{data: cloneBytes(data), err: recordError(err)}
	}
	r.a.mu.Unlock()
	return data, err
}

// Stat stats through the inner host and records the answer.
func (r *Recorder) Stat(path string) (FileInfo, error) {
	fi, err := r.inner.Stat(path)
	r.a.mu.Lock()
	if _, ok := r.a.stats[path]; !ok {
		r.a.stats[path] = statAnswer{info: fi, err: recordError(err)}
	}
	r.a.mu.Unlock()
	return fi, err
}

// Glob globs through the inner host and records the answer.
func (r *Recorder) Glob(pattern string) ([]string, error) {
	names, err := r.inner.Glob(pattern)
	r.recordList(r.a.globs, pattern, names, err)
	return names, err
}

// ReadDir lists through the inner host and records the answer.
func (r *Recorder) ReadDir(path string) ([]string, error) {
	names, err := r.inner.ReadDir(path)
	r.recordList(r.a.dirs, path, names, err)
	return names, err
}

func (r *Recorder) recordList(m map[string]listAnswer, key string, names []string, err error) {
	r.a.mu.Lock()
	defer r.a.mu.Unlock()
	if _, ok := m[key]; !ok {
		m[key] = listAnswer{names: cloneStrings(names), err: recordError(err)}
	}
}

// Run runs through the inner host and records the output and error.
func (r *Recorder) Run(ctx context.Context, name string, args ...string) (Output, error) {
	out, err := r.inner.Run(ctx, name, args...)
	argv := append([]string{name}, args...)
	r.a.mu.Lock()
	if _, ok := r.a.runs[argvKey(argv)]; !ok {
		r.a.runs[argvKey(argv)] = runAnswer{
			argv: argv,
			out:  Output{Stdout: cloneBytes(out.Stdout), Stderr: cloneBytes(out.Stderr), ExitCode: out.ExitCode},
			err:  recordError(err),
		}
	}
	r.a.mu.Unlock()
	return out, err
}

// Registry reads through the inner host and records the answer.
func (r *Recorder) Registry(key, name string) (RegistryValue, error) {
	v, err := r.inner.Registry(key, name)
	r.a.mu.Lock()
	if _, ok := r.a.registry[registryKey(key, name)]; !ok {
		rv := v
		rv.Strings, rv.Binary = cloneStrings(v.Strings), cloneBytes(v.Binary)
		r.a.registry[registryKey(key, name)] = registryAnswer{key: key, name: name, value: rv, err: recordError(err)}
	}
	r.a.mu.Unlock()
	return v, err
}

// WMI queries through the inner host and records the rows.
func (r *Recorder) WMI(ctx context.Context, namespace, query string) ([]map[string]any, error) {
	rows, err := r.inner.WMI(ctx, namespace, query)
	ans := wmiAnswer{namespace: namespace, query: query, err: recordError(err)}
	if err == nil {
		b, merr := json.Marshal(rows)
		if merr != nil {
			ans.err = recordError(fmt.Errorf("encode wmi rows: %w", merr))
		} else {
			ans.rows = b
		}
	}
	r.a.mu.Lock()
	if _, ok := r.a.wmi[wmiKey(namespace, query)]; !ok {
		r.a.wmi[wmiKey(namespace, query)] = ans
	}
	r.a.mu.Unlock()
	return rows, err
}
