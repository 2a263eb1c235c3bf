package host

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const manifestName = "manifest.json"

// isArchive reports whether path names a .tar.gz snapshot.
func isArchive(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".tar.gz") || strings.HasSuffix(l, ".tgz")
}

func saveSnapshot(dst string, meta SnapshotMeta, a *answers) error {
	m, blobs := toManifest(meta, a)
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("save snapshot: encode manifest: %w", err)
	}
	blobs[manifestName] = append(mj, '\n')
	if isArchive(dst) {
		return saveArchive(dst, blobs, meta.RecordedAt)
	}
	return saveDir(dst, blobs)
}

func saveDir(dir string, blobs map[string][]byte) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("save snapshot: %w", err)
		}
		ents, rerr := os.ReadDir(dir)
		if rerr != nil {
			return fmt.Errorf("save snapshot: %w", rerr)
		}
		if len(ents) > 0 {
			return fmt.Errorf("save snapshot: directory %s is not empty", dir)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	defer root.Close()
	for _, name := range sortedKeys(blobs) {
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o700); err != nil {
				return fmt.Errorf("save snapshot: %w", err)
			}
		}
		if err := writeRootFile(root, name, blobs[name]); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
	}
	return nil
}

func writeRootFile(root *os.Root, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// saveArchive writes the archive to a temporary file beside dst and renames
// it into place, so a crash never leaves a truncated snapshot.
func saveArchive(dst string, blobs map[string][]byte, mtime time.Time) (err error) {
	if _, serr := os.Lstat(dst); serr == nil {
		return fmt.Errorf("save snapshot: %s already exists", dst)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".snapshot-*.tmp")
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := writeArchive(tmp, blobs, mtime); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return nil
}

// writeArchive puts manifest.json first so that a reader can check the
// format before reading the rest.
func writeArchive(w io.Writer, blobs map[string][]byte, mtime time.Time) error {
	names := sortedKeys(blobs)
	sort.SliceStable(names, func(i, j int) bool { return names[i] == manifestName && names[j] != manifestName })
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(blobs[name])), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(blobs[name]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
