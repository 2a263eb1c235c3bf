package host

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// manifest is manifest.json, the index of a snapshot (docs/snapshot.md).
// Contents are held in separate files named by the entries' data fields,
// except for small hand-written fixtures, which may give them inline as
// UTF-8 text.
type manifest struct {
	Format string `json:"format"`
	SnapshotMeta
	Files    []fileEntry     `json:"files,omitempty"`
	Stats    []statEntry     `json:"stats,omitempty"`
	Globs    []globEntry     `json:"globs,omitempty"`
	Dirs     []dirEntry      `json:"dirs,omitempty"`
	Commands []commandEntry  `json:"commands,omitempty"`
	Registry []registryEntry `json:"registry,omitempty"`
	WMI      []wmiEntry      `json:"wmi,omitempty"`
}

type fileEntry struct {
	Path  string         `json:"path"`
	Data  string         `json:"data,omitempty"`
	Text  *string        `json:"text,omitempty"`
	Error *recordedError `json:"error,omitempty"`
}

type statEntry struct {
	Path  string         `json:"path"`
	Info  *FileInfo      `json:"info,omitempty"`
	Error *recordedError `json:"error,omitempty"`
}

type globEntry struct {
	Pattern string         `json:"pattern"`
	Matches []string       `json:"matches"`
	Error   *recordedError `json:"error,omitempty"`
}

type dirEntry struct {
	Path  string         `json:"path"`
	Names []string       `json:"names"`
	Error *recordedError `json:"error,omitempty"`
}

type commandEntry struct {
	Argv       []string       `json:"argv"`
	ExitCode   int            `json:"exit_code"`
	Stdout     string         `json:"stdout,omitempty"`
	Stderr     string         `json:"stderr,omitempty"`
	StdoutText *string        `json:"stdout_text,omitempty"`
	StderrText *string        `json:"stderr_text,omitempty"`
	Error      *recordedError `json:"error,omitempty"`
}

type registryEntry struct {
	Key   string         `json:"key"`
	Name  string         `json:"name"`
	Value *RegistryValue `json:"value,omitempty"`
	Error *recordedError `json:"error,omitempty"`
}

type wmiEntry struct {
	Namespace string          `json:"namespace"`
	Query     string          `json:"query"`
	Rows      json.RawMessage `json:"rows,omitempty"`
	Error     *recordedError  `json:"error,omitempty"`
}

// blobNamer gives each content file a readable, unique, safe name.
type blobNamer struct {
	used map[string]bool
	// dirs holds every directory prefix of a used name, so that no file is
	// named like a directory another file needs, or the reverse.
	dirs map[string]bool
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func newBlobNamer() *blobNamer { return &blobNamer{used: map[string]bool{}, dirs: map[string]bool{}} }

// fileName mirrors the file's own path under files/, e.g.
// /etc/os-release -> files/etc/os-release, C:\Windows\x.ini ->
// files/C/Windows/x.ini.
func (n *blobNamer) fileName(p string) string {
	var segs []string
	for _, s := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), ".")
		if s == "" {
			s = "_"
		}
		segs = append(segs, s)
	}
	return n.claim("files/"+strings.Join(segs, "/"), "")
}

// commandName names a command's output after its command line, e.g.
// commands/usr_sbin_nft_-j_list_ruleset.stdout.
func (n *blobNamer) commandName(argv []string, stream string) string {
	base := strings.Trim(unsafeChars.ReplaceAllString(strings.Join(argv, "_"), "_"), "._")
	if len(base) > 80 {
		base = base[:80]
	}
	return n.claim("commands/"+base, "."+stream)
}

func (n *blobNamer) claim(stem, ext string) string {
	name := stem + ext
	for i := 2; n.conflicts(name); i++ {
		name = fmt.Sprintf("%s~%d%s", stem, i, ext)
	}
	n.used[name] = true
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		n.dirs[d] = true
	}
	return name
}

func (n *blobNamer) conflicts(name string) bool {
	if n.used[name] || n.dirs[name] {
		return true
	}
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if n.used[d] {
			return true
		}
	}
	return false
}

// toManifest lays the answers out as a manifest plus the content files it
// names, in a stable order so that two saves of the same answers are equal.
func toManifest(meta SnapshotMeta, a *answers) (*manifest, map[string][]byte) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	m := &manifest{Format: SnapshotFormat, SnapshotMeta: meta}
	m.FormatVersion = SnapshotVersion
	blobs := map[string][]byte{}
	names := newBlobNamer()
	for _, p := range sortedKeys(a.files) {
		ans := a.files[p]
		e := fileEntry{Path: p, Error: ans.err}
		if ans.err == nil {
			e.Data = names.fileName(p)
			blobs[e.Data] = ans.data
		}
		m.Files = append(m.Files, e)
	}
	for _, p := range sortedKeys(a.stats) {
		ans := a.stats[p]
		e := statEntry{Path: p, Error: ans.err}
		if ans.err == nil {
			info := ans.info
			e.Info = &info
		}
		m.Stats = append(m.Stats, e)
	}
	for _, p := range sortedKeys(a.globs) {
		m.Globs = append(m.Globs, globEntry{Pattern: p, Matches: nonNil(a.globs[p].names), Error: a.globs[p].err})
	}
	for _, p := range sortedKeys(a.dirs) {
		m.Dirs = append(m.Dirs, dirEntry{Path: p, Names: nonNil(a.dirs[p].names), Error: a.dirs[p].err})
	}
	for _, k := range sortedKeys(a.runs) {
		ans := a.runs[k]
		e := commandEntry{Argv: ans.argv, ExitCode: ans.out.ExitCode, Error: ans.err}
		if len(ans.out.Stdout) > 0 {
			e.Stdout = names.commandName(ans.argv, "stdout")
			blobs[e.Stdout] = ans.out.Stdout
		}
		if len(ans.out.Stderr) > 0 {
			e.Stderr = names.commandName(ans.argv, "stderr")
			blobs[e.Stderr] = ans.out.Stderr
		}
		m.Commands = append(m.Commands, e)
	}
	for _, k := range sortedKeys(a.registry) {
		ans := a.registry[k]
		e := registryEntry{Key: ans.key, Name: ans.name, Error: ans.err}
		if ans.err == nil {
			v := ans.value
			e.Value = &v
		}
		m.Registry = append(m.Registry, e)
	}
	for _, k := range sortedKeys(a.wmi) {
		ans := a.wmi[k]
		m.WMI = append(m.WMI, wmiEntry{Namespace: ans.namespace, Query: ans.query, Rows: ans.rows, Error: ans.err})
	}
	return m, blobs
}

// fromManifest checks a decoded manifest and loads its answers, taking
// content from blob (which returns a named file's bytes or an error).
func fromManifest(m *manifest, blob func(name string) ([]byte, error)) (*answers, error) {
	if m.Format != SnapshotFormat {
		return nil, fmt.Errorf("manifest: format %q is not %q", truncate(m.Format, 64), SnapshotFormat)
	}
	if m.FormatVersion < 1 || m.FormatVersion > SnapshotVersion {
		return nil, fmt.Errorf("manifest: version %d is not supported (this build reads up to %d)", m.FormatVersion, SnapshotVersion)
	}
	if m.GOOS == "" || len(m.GOOS) > 32 {
		return nil, fmt.Errorf("manifest: goos is missing or too long")
	}
	total := len(m.Files) + len(m.Stats) + len(m.Globs) + len(m.Dirs) + len(m.Commands) + len(m.Registry) + len(m.WMI)
	if total > MaxSnapshotEntries {
		return nil, fmt.Errorf("manifest: %d answers, more than %d", total, MaxSnapshotEntries)
	}
	a := newAnswers()
	content := func(what, ref string, text *string, limit int) ([]byte, error) {
		if text != nil {
			if ref != "" {
				return nil, fmt.Errorf("manifest: %s has both a file and inline text", what)
			}
			if len(*text) > limit {
				return nil, fmt.Errorf("manifest: %s: %w", what, ErrTooLarge)
			}
			return []byte(*text), nil
		}
		if ref == "" {
			return nil, nil
		}
		b, err := blob(ref)
		if err != nil {
			return nil, fmt.Errorf("manifest: %s: %w", what, err)
		}
		if len(b) > limit {
			return nil, fmt.Errorf("manifest: %s: %w", what, ErrTooLarge)
		}
		return b, nil
	}
	for _, e := range m.Files {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: file %q: %w", e.Path, err)
		}
		data, err := content(fmt.Sprintf("file %q", e.Path), e.Data, e.Text, MaxFileSize)
		if err != nil {
			return nil, err
		}
		if data == nil && e.Error == nil {
			data = []byte{}
		}
		a.files[e.Path] = fileAnswer{data: data, err: e.Error}
	}
	for _, e := range m.Stats {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: stat %q: %w", e.Path, err)
		}
		ans := statAnswer{err: e.Error}
		if e.Info != nil {
			ans.info = *e.Info
		} else if e.Error == nil {
			return nil, fmt.Errorf("manifest: stat %q has neither info nor error", e.Path)
		}
		a.stats[e.Path] = ans
	}
	for _, e := range m.Globs {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: glob %q: %w", e.Pattern, err)
		}
		a.globs[e.Pattern] = listAnswer{names: e.Matches, err: e.Error}
	}
	for _, e := range m.Dirs {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: dir %q: %w", e.Path, err)
		}
		a.dirs[e.Path] = listAnswer{names: e.Names, err: e.Error}
	}
	for _, e := range m.Commands {
		what := fmt.Sprintf("command %q", strings.Join(e.Argv, " "))
		if len(e.Argv) == 0 {
			return nil, fmt.Errorf("manifest: command with an empty argv")
		}
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: %s: %w", what, err)
		}
		stdout, err := content(what+" stdout", e.Stdout, e.StdoutText, MaxOutputSize)
		if err != nil {
			return nil, err
		}
		stderr, err := content(what+" stderr", e.Stderr, e.StderrText, MaxOutputSize)
		if err != nil {
			return nil, err
		}
		a.runs[argvKey(e.Argv)] = runAnswer{argv: e.Argv, out: Output{Stdout: stdout, Stderr: stderr, ExitCode: e.ExitCode}, err: e.Error}
	}
	for _, e := range m.Registry {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: registry %q %q: %w", e.Key, e.Name, err)
		}
		ans := registryAnswer{key: e.Key, name: e.Name, err: e.Error}
		if e.Value != nil {
			ans.value = *e.Value
		} else if e.Error == nil {
			return nil, fmt.Errorf("manifest: registry %q %q has neither value nor error", e.Key, e.Name)
		}
		a.registry[registryKey(e.Key, e.Name)] = ans
	}
	for _, e := range m.WMI {
		if err := checkErr(e.Error); err != nil {
			return nil, fmt.Errorf("manifest: wmi %q: %w", e.Query, err)
		}
		if len(e.Rows) > 0 {
			if _, err := decodeRows(e.Rows); err != nil {
				return nil, fmt.Errorf("manifest: wmi %q: rows must be an array of objects: %w", e.Query, err)
			}
		}
		a.wmi[wmiKey(e.Namespace, e.Query)] = wmiAnswer{namespace: e.Namespace, query: e.Query, rows: e.Rows, err: e.Error}
	}
	return a, nil
}

func checkErr(e *recordedError) error {
	if e == nil {
		return nil
	}
	if !kindValid(e.Kind) {
		return fmt.Errorf("unknown error kind %q", truncate(e.Kind, 32))
	}
	return nil
}

// validBlobName accepts the relative, clean, slash-separated names that
// a manifest may refer to, and nothing that could leave the snapshot.
func validBlobName(name string) bool {
	if name == "" || len(name) > 1024 || !utf8.ValidString(name) || strings.ContainsAny(name, "\\\x00:") {
		return false
	}
	if path.IsAbs(name) || path.Clean(name) != name || name == "." || name == ".." || strings.HasPrefix(name, "../") {
		return false
	}
	return name != manifestName
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
