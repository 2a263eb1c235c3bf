package host

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// OpenSnapshot opens the snapshot at path, a directory or a .tar.gz (.tgz)
// archive, checks it against the format's bounds and returns a Replayer
// that answers from it. Archives with too many or too large entries, links,
// or names that would leave the snapshot are refused, as are manifests that
// refer to such names.
func OpenSnapshot(path string) (*Replayer, error) {
	var (
		r   *Replayer
		err error
	)
	if isArchive(path) {
		r, err = openArchive(path)
	} else {
		r, err = openDir(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	return r, nil
}

func decodeManifest(b []byte) (*manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("manifest: larger than %d bytes", MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

func newReplayer(m *manifest, blob func(string) ([]byte, error)) (*Replayer, error) {
	a, err := fromManifest(m, blob)
	if err != nil {
		return nil, err
	}
	return &Replayer{meta: m.SnapshotMeta, a: a}, nil
}

func openDir(dir string) (*Replayer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	mb, err := readRootFile(root, manifestName, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(mb)
	if err != nil {
		return nil, err
	}
	total := int64(len(mb))
	return newReplayer(m, func(name string) ([]byte, error) {
		if !validBlobName(name) {
			return nil, fmt.Errorf("content name %q is not a plain relative path", truncate(name, 128))
		}
		b, err := readRootFile(root, name, MaxFileSize)
		if err != nil {
			return nil, err
		}
		if total += int64(len(b)); total > MaxSnapshotBytes {
			return nil, fmt.Errorf("snapshot holds more than %d bytes", MaxSnapshotBytes)
		}
		return b, nil
	})
}

// readRootFile reads a regular file inside root (which refuses names and
// symlinks leading outside it) up to limit bytes.
func readRootFile(root *os.Root, name string, limit int64) ([]byte, error) {
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes)", name, ErrTooLarge, limit)
	}
	return b, nil
}

// maxArchiveSize bounds the compressed archive, generously above the
// uncompressed limit's worst case.
const maxArchiveSize = MaxSnapshotBytes + 1<<20

func openArchive(p string) (*Replayer, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if fi.Size() > maxArchiveSize {
		return nil, fmt.Errorf("archive is %d bytes, more than %d", fi.Size(), maxArchiveSize)
	}
	blobs, err := readArchive(f)
	if err != nil {
		return nil, err
	}
	mb, ok := blobs[manifestName]
	if !ok {
		return nil, fmt.Errorf("archive has no %s", manifestName)
	}
	m, err := decodeManifest(mb)
	if err != nil {
		return nil, err
	}
	return newReplayer(m, func(name string) ([]byte, error) {
		if !validBlobName(name) {
			return nil, fmt.Errorf("content name %q is not a plain relative path", truncate(name, 128))
		}
		b, ok := blobs[name]
		if !ok {
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		return b, nil
	})
}

// readArchive reads every regular file of a gzip-compressed tar into
// memory, refusing anything beyond the snapshot bounds or any entry that
// is not a plain file or directory with a clean relative name.
func readArchive(r io.Reader) (map[string][]byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip archive: %w", err)
	}
	defer gz.Close()
	// The limit on decompressed bytes stops a gzip bomb even when the tar
	// headers understate sizes.
	tr := tar.NewReader(io.LimitReader(gz, MaxSnapshotBytes+MaxSnapshotEntries*1024))
	blobs := map[string][]byte{}
	var total int64
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return blobs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if entries >= MaxSnapshotEntries {
			return nil, fmt.Errorf("archive has more than %d entries", MaxSnapshotEntries)
		}
		// Archives made by hand with `tar -C dir .` name entries ./x.
		hdr.Name = strings.TrimPrefix(hdr.Name, "./")
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("archive entry %q is not a regular file or directory", truncate(hdr.Name, 128))
		}
		if !validBlobName(hdr.Name) && hdr.Name != manifestName {
			return nil, fmt.Errorf("archive entry %q is not a plain relative path", truncate(hdr.Name, 128))
		}
		if _, dup := blobs[hdr.Name]; dup {
			return nil, fmt.Errorf("archive entry %q appears twice", truncate(hdr.Name, 128))
		}
		limit := int64(MaxFileSize)
		if hdr.Name == manifestName {
			limit = MaxManifestSize
		}
		if hdr.Size < 0 || hdr.Size > limit {
			return nil, fmt.Errorf("archive entry %q is %d bytes, more than %d", truncate(hdr.Name, 128), hdr.Size, limit)
		}
		if total += hdr.Size; total > MaxSnapshotBytes {
			return nil, fmt.Errorf("archive holds more than %d bytes", MaxSnapshotBytes)
		}
		b, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil {
			return nil, fmt.Errorf("read archive entry %q: %w", truncate(hdr.Name, 128), err)
		}
		if int64(len(b)) != hdr.Size {
			return nil, fmt.Errorf("archive entry %q is truncated", truncate(hdr.Name, 128))
		}
		blobs[hdr.Name] = b
	}
}
