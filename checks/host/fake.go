package host

import (
	"encoding/json"
	"time"
)

// Fake is an in-memory Host for tests, filled by its Add methods and
// answering like a Replayer: anything not added is ErrNotFound (the
// registry and WMI answer ErrNotSupported unless the OS is windows).
// Save writes it as a snapshot, which is a convenient way to make fixtures.
type Fake struct {
	Replayer
}

var _ Host = (*Fake)(nil)

// NewFake returns an empty fake host of the given GOOS and GOARCH.
func NewFake(goos, arch string) *Fake {
	return &Fake{Replayer{
		meta: SnapshotMeta{FormatVersion: SnapshotVersion, GOOS: goos, Arch: arch, RecordedAt: time.Unix(0, 0).UTC()},
		a:    newAnswers(),
	}}
}

// SetMeta replaces the metadata Save writes (the GOOS is kept if empty).
func (f *Fake) SetMeta(m SnapshotMeta) {
	if m.GOOS == "" {
		m.GOOS = f.meta.GOOS
	}
	m.FormatVersion = SnapshotVersion
	f.meta = m
}

// AddFile makes path readable with content data.
func (f *Fake) AddFile(path string, data []byte) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.files[path] = fileAnswer{data: cloneBytes(data)}
	if f.a.files[path].data == nil {
		f.a.files[path] = fileAnswer{data: []byte{}}
	}
	return f
}

// AddFileError makes reading path fail with err (classified like a
// recording, e.g. ErrPermission).
func (f *Fake) AddFileError(path string, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.files[path] = fileAnswer{err: recordError(err)}
	return f
}

// AddStat sets the answer to Stat(path).
func (f *Fake) AddStat(path string, info FileInfo, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.stats[path] = statAnswer{info: info, err: recordError(err)}
	return f
}

// AddGlob sets the answer to Glob(pattern).
func (f *Fake) AddGlob(pattern string, matches []string, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.globs[pattern] = listAnswer{names: cloneStrings(matches), err: recordError(err)}
	return f
}

// AddDir sets the answer to ReadDir(path).
func (f *Fake) AddDir(path string, names []string, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.dirs[path] = listAnswer{names: cloneStrings(names), err: recordError(err)}
	return f
}

// AddRun sets the answer to running argv.
func (f *Fake) AddRun(argv []string, out Output, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.runs[argvKey(argv)] = runAnswer{
		argv: cloneStrings(argv),
		out:  Output{Stdout: cloneBytes(out.Stdout), Stderr: cloneBytes(out.Stderr), ExitCode: out.ExitCode},
		err:  recordError(err),
	}
	return f
}

// AddRegistry sets the answer to Registry(key, name).
func (f *Fake) AddRegistry(key, name string, v RegistryValue, err error) *Fake {
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.registry[registryKey(key, name)] = registryAnswer{key: key, name: name, value: v, err: recordError(err)}
	return f
}

// AddWMI sets the rows answered to a WMI query. Rows must encode to JSON.
func (f *Fake) AddWMI(namespace, query string, rows []map[string]any, err error) *Fake {
	ans := wmiAnswer{namespace: namespace, query: query, err: recordError(err)}
	if err == nil {
		b, merr := json.Marshal(rows)
		if merr != nil {
			panic("host: fake wmi rows do not encode to JSON: " + merr.Error())
		}
		ans.rows = b
	}
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	f.a.wmi[wmiKey(namespace, query)] = ans
	return f
}

// Save writes the fake's answers as a snapshot at path, like Recorder.Save.
func (f *Fake) Save(path string) error {
	return saveSnapshot(path, f.meta, f.a)
}

// AddSnapshot copies every answer of r into the fake (replacing answers to
// the same questions), to compose a fixture from recorded parts.
func (f *Fake) AddSnapshot(r *Replayer) *Fake {
	r.a.mu.RLock()
	defer r.a.mu.RUnlock()
	f.a.mu.Lock()
	defer f.a.mu.Unlock()
	copyMap(f.a.files, r.a.files)
	copyMap(f.a.stats, r.a.stats)
	copyMap(f.a.globs, r.a.globs)
	copyMap(f.a.dirs, r.a.dirs)
	copyMap(f.a.runs, r.a.runs)
	copyMap(f.a.registry, r.a.registry)
	copyMap(f.a.wmi, r.a.wmi)
	return f
}

func copyMap[V any](dst, src map[string]V) {
	for k, v := range src {
		dst[k] = v
	}
}
