package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// The six whole-machine snapshots in ../testdata/snapshots are composed
// here from the control packages' captured samples (see
// ../testdata/snapshots/README.md) and rewritten with -update-fixtures.

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the whole-machine snapshots in ../testdata/snapshots")

// fixtureTime is when every fixture was "recorded"; the golden tests
// evaluate at this time.
var fixtureTime = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

// sample reads a control package's testdata file byte for byte, e.g.
// sample(t, "firewall", "linux/ufw__active.txt").
func sample(t testing.TB, pkg, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", pkg, "testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// out is a command's standard output.
func out(b []byte) host.Output { return host.Output{Stdout: b} }

// newMachine returns an empty fake of goos named hostname, recorded at
// fixtureTime.
func newMachine(goos, arch, hostname string) *host.Fake {
	f := host.NewFake(goos, arch)
	f.SetMeta(host.SnapshotMeta{GOOS: goos, Arch: arch, Hostname: hostname, AgentVersion: "fixture", RecordedAt: fixtureTime})
	return f
}

var (
	regularFile = host.FileInfo{Name: "f", Size: 1024, Mode: 0o644, ModTime: fixtureTime.Add(-time.Hour)}
	program     = host.FileInfo{Name: "f", Size: 1 << 20, Mode: 0o755, ModTime: fixtureTime.AddDate(0, -2, 0)}
	directory   = host.FileInfo{Name: "d", Mode: fs.ModeDir | 0o755, ModTime: fixtureTime.AddDate(0, -2, 0)}
)

func symlink(to string) host.FileInfo {
	return host.FileInfo{Name: "l", Mode: fs.ModeSymlink | 0o777, Link: to}
}

// redateCVD rewrites a ClamAV database header's build time (its human
// field and its seconds field) to built, keeping the header's 512 bytes,
// so that a real header can stand for fresh definitions.
func redateCVD(t testing.TB, header []byte, built time.Time) []byte {
	t.Helper()
	fields := strings.Split(strings.TrimRight(string(header), " \x00\r\n"), ":")
	if len(fields) < 9 {
		t.Fatalf("ClamAV header has %d fields", len(fields))
	}
	fields[1] = built.UTC().Format("02 Jan 2006 15-04 -0700")
	fields[8] = fmt.Sprint(built.Unix())
	h := []byte(strings.Join(fields, ":"))
	if len(h) > len(header) {
		t.Fatalf("redated ClamAV header is %d bytes, over %d", len(h), len(header))
	}
	return append(h, bytes.Repeat([]byte(" "), len(header)-len(h))...)
}

// wmiRows decodes a PowerShell ConvertTo-Json sample as the live host
// does: an object is one row, an array several, numbers exact.
func wmiRows(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if len(b) > 0 && b[0] == '{' {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatal(err)
		}
		return []map[string]any{row}
	}
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// fixtureBuilders compose each whole-machine snapshot.
var fixtureBuilders = map[string]func(testing.TB) *host.Fake{
	"linux-compliant":      linuxCompliant,
	"linux-noncompliant":   linuxNoncompliant,
	"windows-compliant":    windowsCompliant,
	"windows-noncompliant": windowsNoncompliant,
	"darwin-compliant":     darwinCompliant,
	"darwin-noncompliant":  darwinNoncompliant,
}

func TestComposeFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to rewrite ../testdata/snapshots")
	}
	for _, name := range fixtureNames {
		build, ok := fixtureBuilders[name]
		if !ok {
			t.Errorf("no builder for %s", name)
			continue
		}
		dir := fixtureDir(name)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := build(t).Save(dir); err != nil {
			t.Fatal(err)
		}
	}
}

// argvAsked returns the command line control id runs for program on f,
// for commands too long to spell out here (PowerShell's -EncodedCommand).
func argvAsked(t testing.TB, f host.Host, id checks.ControlID, program string) []string {
	t.Helper()
	c, ok := checks.Lookup(id)
	if !ok {
		t.Fatalf("control %s is not registered", id)
	}
	rec := &argvRecorder{Host: f}
	if _, err := c.Collect(context.Background(), rec); err != nil {
		t.Logf("collect %s while looking for %s: %v", id, program, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, argv := range rec.runs {
		if argv[0] == program {
			return argv
		}
	}
	t.Fatalf("%s does not run %s", id, program)
	return nil
}

type argvRecorder struct {
	host.Host
	mu   sync.Mutex
	runs [][]string
}

func (r *argvRecorder) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	r.mu.Lock()
	r.runs = append(r.runs, append([]string{name}, args...))
	r.mu.Unlock()
	return r.Host.Run(ctx, name, args...)
}
