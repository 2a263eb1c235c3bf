package host_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/postern-dev/postern/checks/host"
)

// utf16WithBOM is how Windows tools such as `netsh` or `secedit` write
// text: a UTF-16LE byte-order mark, then UTF-16LE with CRLF line ends.
var utf16WithBOM = []byte{0xff, 0xfe, 'O', 0, 'K', 0, '\r', 0, '\n', 0}

// question is one call to a Host; answer is everything it returned.
type question struct {
	name string
	ask  func(h host.Host) answer
}

type answer struct {
	Bytes   []byte
	Info    host.FileInfo
	Names   []string
	Out     host.Output
	Value   host.RegistryValue
	Rows    []map[string]any
	ErrKind string
	ErrText string
}

func ans(err error) answer {
	a := answer{ErrKind: host.ErrorKind(err)}
	if err != nil {
		a.ErrText = err.Error()
	}
	return a
}

func questions() []question {
	ctx := context.Background()
	return []question{
		{"read a UTF-16 file with a BOM", func(h host.Host) answer {
			b, err := h.ReadFile(`C:\Windows\Temp\secpol.cfg`)
			a := ans(err)
			a.Bytes = b
			return a
		}},
		{"read a CRLF text file", func(h host.Host) answer {
			b, err := h.ReadFile("/etc/os-release")
			a := ans(err)
			a.Bytes = b
			return a
		}},
		{"read an empty file", func(h host.Host) answer {
			b, err := h.ReadFile("/proc/swaps")
			a := ans(err)
			a.Bytes = b
			return a
		}},
		{"read a file that needs root", func(h host.Host) answer { _, err := h.ReadFile("/etc/shadow"); return ans(err) }},
		{"read a missing file", func(h host.Host) answer { _, err := h.ReadFile("/nope"); return ans(err) }},
		{"stat a symlink", func(h host.Host) answer {
			fi, err := h.Stat("/sys/class/block/dm-0")
			a := ans(err)
			a.Info = fi
			return a
		}},
		{"glob a pattern", func(h host.Host) answer {
			n, err := h.Glob("/sys/class/block/*")
			a := ans(err)
			a.Names = n
			return a
		}},
		{"list a directory", func(h host.Host) answer {
			n, err := h.ReadDir("/sys/class/block/dm-0/slaves")
			a := ans(err)
			a.Names = n
			return a
		}},
		{"run a command with stdout, stderr and an exit code", func(h host.Host) answer {
			o, err := h.Run(ctx, "/usr/sbin/nft", "-j", "list", "ruleset")
			a := ans(err)
			a.Out = o
			return a
		}},
		{"run a command that timed out", func(h host.Host) answer {
			o, err := h.Run(ctx, "/usr/bin/slow")
			a := ans(err)
			a.Out = o
			return a
		}},
		{"run a command that is too chatty", func(h host.Host) answer { _, err := h.Run(ctx, "/usr/bin/yes"); return ans(err) }},
		{"read a registry value", func(h host.Host) answer {
			v, err := h.Registry(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "ProductName")
			a := ans(err)
			a.Value = v
			return a
		}},
		{"read a registry value with other case", func(h host.Host) answer {
			v, err := h.Registry(`hklm\software\microsoft\windows nt\currentversion`, "productname")
			a := ans(err)
			a.Value = v
			return a
		}},
		{"read a binary registry value", func(h host.Host) answer {
			v, err := h.Registry(`HKLM\SYSTEM\x`, "Blob")
			a := ans(err)
			a.Value = v
			return a
		}},
		{"run a WMI query", func(h host.Host) answer {
			r, err := h.WMI(ctx, `root\SecurityCenter2`, "SELECT * FROM AntiVirusProduct")
			a := ans(err)
			a.Rows = r
			return a
		}},
		{"run a WMI query that is not supported", func(h host.Host) answer {
			_, err := h.WMI(ctx, `root\cimv2\Security\MicrosoftVolumeEncryption`, "SELECT * FROM Win32_EncryptableVolume")
			return ans(err)
		}},
	}
}

func sampleHost() *host.Fake {
	f := host.NewFake("windows", "amd64")
	f.AddFile(`C:\Windows\Temp\secpol.cfg`, utf16WithBOM).
		AddFile("/etc/os-release", []byte("NAME=\"Debian GNU/Linux\"\r\nVERSION_ID=\"12\"\r\n")).
		AddFile("/proc/swaps", nil).
		AddFileError("/etc/shadow", host.Wrap(host.ErrPermission, errors.New("open /etc/shadow: permission denied"))).
		AddStat("/sys/class/block/dm-0", host.FileInfo{Name: "dm-0", Mode: os.ModeSymlink | 0o777, ModTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Link: "../../devices/virtual/block/dm-0"}, nil).
		AddGlob("/sys/class/block/*", []string{"/sys/class/block/dm-0", "/sys/class/block/nvme0n1"}, nil).
		AddDir("/sys/class/block/dm-0/slaves", []string{"nvme0n1p3"}, nil).
		AddRun([]string{"/usr/sbin/nft", "-j", "list", "ruleset"}, host.Output{Stdout: []byte("{\"nftables\": []}\n"), Stderr: []byte("warning\r\n"), ExitCode: 3}, nil).
		AddRun([]string{"/usr/bin/slow"}, host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/bin/slow: context deadline exceeded"))).
		AddRun([]string{"/usr/bin/yes"}, host.Output{}, host.Wrap(host.ErrTooLarge, errors.New("run /usr/bin/yes: stdout exceeds size limit"))).
		AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "ProductName", host.RegistryValue{Type: "REG_SZ", String: "Windows 10 Pro"}, nil).
		AddRegistry(`HKLM\SYSTEM\x`, "Blob", host.RegistryValue{Type: "REG_BINARY", Binary: []byte{0, 1, 0xff}}, nil).
		AddWMI(`root\SecurityCenter2`, "SELECT * FROM AntiVirusProduct", []map[string]any{{"displayName": "Windows Defender", "productState": 397568}}, nil).
		AddWMI(`root\cimv2\Security\MicrosoftVolumeEncryption`, "SELECT * FROM Win32_EncryptableVolume", nil, host.Wrap(host.ErrPermission, errors.New("Access denied")))
	return f
}

var normalize = cmpopts.EquateEmpty()

func TestSnapshotReplaysWhatWasRecorded(t *testing.T) {
	inner := sampleHost()
	rec := host.NewRecorder(inner)
	rec.SetInfo("laptop-17", "1.2.3")
	want := map[string]answer{}
	for _, q := range questions() {
		want[q.name] = q.ask(rec)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ name, path string }{
		{"a directory snapshot answers byte for byte", filepath.Join(dir, "snap")},
		{"a tar.gz snapshot answers byte for byte", filepath.Join(dir, "snap.tar.gz")},
		{"a tgz snapshot answers byte for byte", filepath.Join(dir, "snap.tgz")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rec.Save(tc.path); err != nil {
				t.Fatalf("Save: %v", err)
			}
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.IsDir() && fi.Mode().Perm() != 0o600 {
				t.Errorf("archive mode = %v, want 0600", fi.Mode().Perm())
			}
			rp, err := host.OpenSnapshot(tc.path)
			if err != nil {
				t.Fatalf("OpenSnapshot: %v", err)
			}
			for _, q := range questions() {
				got := q.ask(rp)
				if diff := cmp.Diff(want[q.name], got, normalize); diff != "" {
					t.Errorf("%s: replay differs (-recorded +replayed):\n%s", q.name, diff)
				}
			}
			m := rp.Meta()
			if m.FormatVersion != host.SnapshotVersion || m.GOOS != "windows" || m.Arch != "amd64" || m.Hostname != "laptop-17" || m.AgentVersion != "1.2.3" || m.RecordedAt.IsZero() {
				t.Errorf("Meta() = %+v", m)
			}
			if rp.GOOS() != "windows" {
				t.Errorf("GOOS() = %q, want windows", rp.GOOS())
			}
		})
	}
	t.Run("saving over an existing snapshot is refused", func(t *testing.T) {
		if err := rec.Save(filepath.Join(dir, "snap.tar.gz")); err == nil {
			t.Error("Save over an existing archive succeeded")
		}
		if err := rec.Save(filepath.Join(dir, "snap")); err == nil {
			t.Error("Save into a non-empty directory succeeded")
		}
	})
}

func TestRecordedErrorsKeepTheirKind(t *testing.T) {
	rec := host.NewRecorder(sampleHost())
	_, _ = rec.ReadFile("/etc/shadow")
	_, _ = rec.Run(context.Background(), "/usr/bin/slow")
	path := filepath.Join(t.TempDir(), "s")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	rp, err := host.OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"a permission error replays as ErrPermission", func() error { _, err := rp.ReadFile("/etc/shadow"); return err }(), host.ErrPermission},
		{"a timeout replays as ErrTimeout", func() error { _, err := rp.Run(context.Background(), "/usr/bin/slow"); return err }(), host.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error %v is not %v", tc.err, tc.want)
			}
		})
	}
}

func TestReplayerAnswersMissingReads(t *testing.T) {
	ctx := context.Background()
	linux := host.NewFake("linux", "amd64")
	windows := host.NewFake("windows", "amd64")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"a file not recorded is not found", func() error { _, err := linux.ReadFile("/etc/x"); return err }(), host.ErrNotFound},
		{"a stat not recorded is not found", func() error { _, err := linux.Stat("/etc/x"); return err }(), host.ErrNotFound},
		{"a glob not recorded is not found", func() error { _, err := linux.Glob("/etc/*"); return err }(), host.ErrNotFound},
		{"a directory not recorded is not found", func() error { _, err := linux.ReadDir("/etc"); return err }(), host.ErrNotFound},
		{"a command not recorded is not found", func() error { _, err := linux.Run(ctx, "/bin/true"); return err }(), host.ErrNotFound},
		{"the registry off windows is not supported", func() error { _, err := linux.Registry(`HKLM\X`, "Y"); return err }(), host.ErrNotSupported},
		{"WMI off windows is not supported", func() error { _, err := linux.WMI(ctx, `root\cimv2`, "SELECT 1"); return err }(), host.ErrNotSupported},
		{"a registry value not recorded on windows is not found", func() error { _, err := windows.Registry(`HKLM\X`, "Y"); return err }(), host.ErrNotFound},
		{"a WMI query not recorded on windows is not found", func() error { _, err := windows.WMI(ctx, `root\cimv2`, "SELECT 1"); return err }(), host.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("error %v is not %v", tc.err, tc.want)
			}
		})
	}
	t.Run("a command under an expired context times out", func(t *testing.T) {
		linux.AddRun([]string{"/bin/true"}, host.Output{}, nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := linux.Run(cctx, "/bin/true"); !errors.Is(err, host.ErrTimeout) {
			t.Errorf("error %v is not ErrTimeout", err)
		}
	})
}

func TestReplayerReturnsCopies(t *testing.T) {
	f := host.NewFake("linux", "amd64").AddFile("/a", []byte("abc"))
	b, _ := f.ReadFile("/a")
	b[0] = 'X'
	again, _ := f.ReadFile("/a")
	if string(again) != "abc" {
		t.Errorf("a caller's change leaked into the snapshot: %q", again)
	}
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	hdr  tar.Header
	data string
}

func makeArchive(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(e.data))
		}
		h.Mode = 0o600
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if e.data != "" {
			if _, err := tw.Write([]byte(e.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(t.TempDir(), "x.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodManifest = `{"format":"postern-snapshot","version":1,"goos":"linux","recorded_at":"2025-01-01T00:00:00Z",
"files":[{"path":"/etc/hostname","data":"files/etc/hostname"}]}`

func TestOpenSnapshotRefusesHostileArchives(t *testing.T) {
	manyEntries := []tarEntry{{hdr: tar.Header{Name: "manifest.json"}, data: goodManifest}}
	for i := 0; i <= host.MaxSnapshotEntries; i++ {
		manyEntries = append(manyEntries, tarEntry{hdr: tar.Header{Name: "d/", Typeflag: tar.TypeDir}})
	}
	tests := []struct {
		name    string
		entries []tarEntry
		raw     []byte
		wantErr string
	}{
		{name: "an entry climbing out with .. is refused", wantErr: "not a plain relative path", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: goodManifest},
			{hdr: tar.Header{Name: "../../etc/cron.d/x"}, data: "x"},
		}},
		{name: "an absolute entry name is refused", wantErr: "not a plain relative path", entries: []tarEntry{
			{hdr: tar.Header{Name: "/etc/passwd"}, data: "x"},
		}},
		{name: "a symlink entry is refused", wantErr: "not a regular file", entries: []tarEntry{
			{hdr: tar.Header{Name: "files/etc/hostname", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}},
		}},
		{name: "an entry over the size limit is refused", wantErr: "more than", entries: []tarEntry{
			{hdr: tar.Header{Name: "files/big"}, data: strings.Repeat("x", host.MaxFileSize+1)},
		}},
		{name: "too many entries are refused", wantErr: "more than 20000 entries", entries: manyEntries},
		{name: "a duplicate entry is refused", wantErr: "appears twice", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: goodManifest},
			{hdr: tar.Header{Name: "manifest.json"}, data: goodManifest},
		}},
		{name: "an archive without a manifest is refused", wantErr: "no manifest.json", entries: []tarEntry{
			{hdr: tar.Header{Name: "files/etc/hostname"}, data: "x"},
		}},
		{name: "a manifest naming a file outside the snapshot is refused", wantErr: "not a plain relative path", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: strings.Replace(goodManifest, "files/etc/hostname", "../../etc/hostname", 1)},
		}},
		{name: "a manifest naming a missing file is refused", wantErr: "file does not exist", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: goodManifest},
		}},
		{name: "a newer format version is refused", wantErr: "version 2 is not supported", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: strings.Replace(goodManifest, `"version":1`, `"version":2`, 1)},
		}},
		{name: "a manifest with unknown fields is refused", wantErr: "unknown field", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: strings.Replace(goodManifest, `"goos"`, `"bogus":1,"goos"`, 1)},
		}},
		{name: "an unknown error kind is refused", wantErr: "unknown error kind", entries: []tarEntry{
			{hdr: tar.Header{Name: "manifest.json"}, data: strings.Replace(goodManifest, `"data":"files/etc/hostname"`, `"error":{"kind":"boom"}`, 1)},
		}},
		{name: "a file that is not gzip is refused", wantErr: "not a gzip archive", raw: []byte("PK\x03\x04 zip file")},
		{name: "a truncated archive is refused", wantErr: "", raw: []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p string
			if tc.raw != nil {
				p = filepath.Join(t.TempDir(), "x.tgz")
				if err := os.WriteFile(p, tc.raw, 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				p = makeArchive(t, tc.entries)
			}
			_, err := host.OpenSnapshot(p)
			if err == nil {
				t.Fatal("OpenSnapshot accepted a hostile archive")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestOpenSnapshotRefusesHostileDirectories(t *testing.T) {
	t.Run("a symlink leading out of the snapshot is refused", func(t *testing.T) {
		dir := t.TempDir()
		outside := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(goodManifest), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "files/etc"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "files/etc/hostname")); err != nil {
			t.Fatal(err)
		}
		if _, err := host.OpenSnapshot(dir); err == nil {
			t.Error("OpenSnapshot followed a symlink out of the snapshot")
		}
	})
	t.Run("a directory without a manifest is refused", func(t *testing.T) {
		if _, err := host.OpenSnapshot(t.TempDir()); err == nil {
			t.Error("OpenSnapshot accepted an empty directory")
		}
	})
	t.Run("a hand-written manifest with inline text replays it", func(t *testing.T) {
		dir := t.TempDir()
		m := `{"format":"postern-snapshot","version":1,"goos":"linux","recorded_at":"2025-01-01T00:00:00Z",
"files":[{"path":"/etc/hostname","text":"box\n"}],
"commands":[{"argv":["/usr/bin/uname","-m"],"exit_code":0,"stdout_text":"x86_64\n"}]}`
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
		rp, err := host.OpenSnapshot(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rp.ReadFile("/etc/hostname")
		if err != nil || string(b) != "box\n" {
			t.Errorf("ReadFile = %q, %v", b, err)
		}
		out, err := rp.Run(context.Background(), "/usr/bin/uname", "-m")
		if err != nil || string(out.Stdout) != "x86_64\n" {
			t.Errorf("Run = %q, %v", out.Stdout, err)
		}
	})
}
