package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Replayer is a Host that answers from a snapshot. A question the snapshot
// did not record is answered as the recorded OS would answer a missing
// thing: ErrNotFound, or ErrNotSupported for the registry and WMI off
// Windows.
type Replayer struct {
	meta SnapshotMeta
	a    *answers
}

var (
	_ Host   = (*Replayer)(nil)
	_ Archer = (*Replayer)(nil)
)

// Meta returns the snapshot's metadata.
func (r *Replayer) Meta() SnapshotMeta { return r.meta }

// GOOS returns the operating system the snapshot was recorded on.
func (r *Replayer) GOOS() string { return r.meta.GOOS }

// Arch returns the architecture the snapshot was recorded on, if known.
func (r *Replayer) Arch() string { return r.meta.Arch }

// ReadFile returns the recorded content of path.
func (r *Replayer) ReadFile(path string) ([]byte, error) {
	r.a.mu.RLock()
	ans, ok := r.a.files[path]
	r.a.mu.RUnlock()
	if !ok {
		return nil, missing("read " + path)
	}
	if ans.err != nil {
		return nil, ans.err.toError()
	}
	return cloneBytes(ans.data), nil
}

// Stat returns the recorded description of path.
func (r *Replayer) Stat(path string) (FileInfo, error) {
	r.a.mu.RLock()
	ans, ok := r.a.stats[path]
	r.a.mu.RUnlock()
	if !ok {
		return FileInfo{}, missing("stat " + path)
	}
	if ans.err != nil {
		return FileInfo{}, ans.err.toError()
	}
	return ans.info, nil
}

// Glob returns the recorded matches of pattern.
func (r *Replayer) Glob(pattern string) ([]string, error) {
	return r.list(r.a.globs, "glob "+pattern, pattern)
}

// ReadDir returns the recorded listing of the directory at path.
func (r *Replayer) ReadDir(path string) ([]string, error) {
	return r.list(r.a.dirs, "read directory "+path, path)
}

func (r *Replayer) list(m map[string]listAnswer, what, key string) ([]string, error) {
	r.a.mu.RLock()
	ans, ok := m[key]
	r.a.mu.RUnlock()
	if !ok {
		return nil, missing(what)
	}
	if ans.err != nil {
		return nil, ans.err.toError()
	}
	return cloneStrings(ans.names), nil
}

// Run returns the recorded output of the command line. It does not run
// anything; a done ctx is still honoured so that callers see a timeout.
func (r *Replayer) Run(ctx context.Context, name string, args ...string) (Output, error) {
	if err := ctx.Err(); err != nil {
		return Output{}, Wrap(ErrTimeout, fmt.Errorf("run %s: %w", name, err))
	}
	argv := append([]string{name}, args...)
	r.a.mu.RLock()
	ans, ok := r.a.runs[argvKey(argv)]
	r.a.mu.RUnlock()
	if !ok {
		return Output{}, missing("run " + strings.Join(argv, " "))
	}
	out := Output{Stdout: cloneBytes(ans.out.Stdout), Stderr: cloneBytes(ans.out.Stderr), ExitCode: ans.out.ExitCode}
	if ans.err != nil {
		return out, ans.err.toError()
	}
	return out, nil
}

// Registry returns the recorded registry value.
func (r *Replayer) Registry(key, name string) (RegistryValue, error) {
	r.a.mu.RLock()
	ans, ok := r.a.registry[registryKey(key, name)]
	r.a.mu.RUnlock()
	if !ok {
		if r.meta.GOOS != "windows" {
			return RegistryValue{}, Wrap(ErrNotSupported, fmt.Errorf("read registry on %s: %w", r.meta.GOOS, ErrNotSupported))
		}
		return RegistryValue{}, missing(`read registry ` + key + `\` + name)
	}
	if ans.err != nil {
		return RegistryValue{}, ans.err.toError()
	}
	v := ans.value
	v.Strings, v.Binary = cloneStrings(v.Strings), cloneBytes(v.Binary)
	return v, nil
}

// WMI returns the recorded rows of the query.
func (r *Replayer) WMI(ctx context.Context, namespace, query string) ([]map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, Wrap(ErrTimeout, fmt.Errorf("wmi query: %w", err))
	}
	r.a.mu.RLock()
	ans, ok := r.a.wmi[wmiKey(namespace, query)]
	r.a.mu.RUnlock()
	if !ok {
		if r.meta.GOOS != "windows" {
			return nil, Wrap(ErrNotSupported, fmt.Errorf("wmi query on %s: %w", r.meta.GOOS, ErrNotSupported))
		}
		return nil, missing("wmi query " + namespace + ": " + query)
	}
	if ans.err != nil {
		return nil, ans.err.toError()
	}
	return decodeRows(ans.rows)
}

// decodeRows decodes a JSON array of objects with numbers kept exact.
func decodeRows(b []byte) ([]map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("decode wmi rows: %w", err)
	}
	return rows, nil
}

func missing(what string) error {
	return &kindError{sentinel: ErrNotFound, msg: what + ": not found (not in snapshot)"}
}
