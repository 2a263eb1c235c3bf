package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// Names of the bundle's own files, beside the snapshot's.
const (
	StatusFile = "bundle/status.json"
	CheckFile  = "bundle/check.json"
	ReadmeFile = "bundle/README.txt"
)

// Input is what goes into a bundle.
type Input struct {
	// Host is the live machine; it is recorded through Redact.
	Host   host.Host
	Device func(ctx context.Context, h host.Host) checks.Device
	Policy *checks.Policy
	Now    time.Time
	// AgentVersion is written in the snapshot's manifest.
	AgentVersion string
	// StatusJSON is `status --json` at the time of the bundle.
	StatusJSON []byte
}

// Result says what the bundle's check found.
type Result struct {
	Compliant bool
	Controls  int
}

// Write checks the machine once through a redacting recorder and writes
// the bundle to path (a .tar.gz, mode 0600, replaced atomically).
func Write(ctx context.Context, path string, in Input) (Result, error) {
	if in.Host == nil || in.Device == nil || in.Policy == nil {
		return Result{}, errors.New("bundle: host, device and policy are required")
	}
	rec := host.NewRecorder(Redact(in.Host))
	dev := in.Device(ctx, rec)
	rep := checks.Collect(ctx, rec, dev, in.Now)
	res := output.NewCheckResult(rep, checks.Evaluate(rep, in.Policy, in.Now))
	rec.SetInfo(dev.Hostname, in.AgentVersion)

	tmp, err := os.MkdirTemp("", "postern-bundle-")
	if err != nil {
		return Result{}, fmt.Errorf("bundle: %w", err)
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, "snapshot")
	if err := rec.Save(snap); err != nil {
		return Result{}, fmt.Errorf("bundle: save snapshot: %w", err)
	}
	var check bytes.Buffer
	if err := res.WriteJSON(&check); err != nil {
		return Result{}, fmt.Errorf("bundle: %w", err)
	}
	extra := map[string][]byte{
		StatusFile: in.StatusJSON,
		CheckFile:  check.Bytes(),
		ReadmeFile: []byte(readme),
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, snap, extra, in.Now); err != nil {
		return Result{}, fmt.Errorf("bundle: %w", err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return Result{}, fmt.Errorf("bundle: write %s: %w", path, err)
	}
	return Result{Compliant: res.Compliant, Controls: len(res.Controls)}, nil
}

// writeArchive writes the snapshot directory's files and the extra files
// as a gzip-compressed tar, in a stable order.
func writeArchive(w io.Writer, dir string, extra map[string][]byte, mtime time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: mtime.UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return add(filepath.ToSlash(rel), b)
	})
	if err != nil {
		return err
	}
	for _, name := range []string{ReadmeFile, StatusFile, CheckFile} {
		if data, ok := extra[name]; ok {
			if err := add(name, data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

var readme = "Postern support bundle\n\n" + Summary()
