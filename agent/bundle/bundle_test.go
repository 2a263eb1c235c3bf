package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog"
	"github.com/postern-dev/postern/checks/host"
)

const hash = "$6$rounds=5000$saltsalt$Qn2hF9vV0Xh3Q0vXHc1"

func TestRedactShadow(t *testing.T) {
	in := "root:" + hash + ":19000:0:99999:7:::\n" +
		"daemon:*:19000:0:99999:7:::\n" +
		"alice:!" + hash + ":19000:0:90:7::20000:\n" +
		"guest::19000:0:99999:7:::\n" +
		"# comment:x:y\n" +
		"short"
	want := "root:$redacted$:19000:0:99999:7:::\n" +
		"daemon:*:19000:0:99999:7:::\n" +
		"alice:!:19000:0:90:7::20000:\n" +
		"guest::19000:0:99999:7:::\n" +
		"# comment:x:y\n" +
		"short"
	if diff := cmp.Diff(want, string(redactShadow([]byte(in)))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func shadowHashData(t *testing.T, password string) []byte {
	t.Helper()
	salt := bytes.Repeat([]byte{7}, 32)
	key, err := pbkdf2.Key(sha512.New, password, salt, 1000, 128)
	if err != nil {
		t.Fatal(err)
	}
	b, err := plist.Marshal(map[string]any{pbkdf2Key: map[string]any{"entropy": key, "salt": salt, "iterations": 1000},
		"SRP-RFC5054-4096-SHA512-PBKDF2": map[string]any{"verifier": []byte("secret verifier")}}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedactDSLocal(t *testing.T) {
	record := func(t *testing.T, password string) []byte {
		b, err := plist.Marshal(map[string]any{
			"name": []string{"alice"}, "uid": []string{"501"}, "shell": []string{"/bin/zsh"},
			"realname": []string{"Alice Example"}, "jpegphoto": [][]byte{[]byte("JFIF")},
			"authentication_authority": []string{";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>"},
			"ShadowHashData":           [][]byte{shadowHashData(t, password)},
		}, plist.XMLFormat)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name       string
		password   string
		wantSamePW bool
	}{
		{"a set password is replaced by the hash of a random one", "correct horse", false},
		{"the hash of an empty password is kept, since it reveals nothing", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := record(t, tt.password)
			got := redactDSLocal(orig)
			var rec map[string]any
			if _, err := plist.Unmarshal(got, &rec); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"realname", "jpegphoto"} {
				if _, ok := rec[k]; ok {
					t.Errorf("%s kept", k)
				}
			}
			if bytes.Contains(got, []byte("secret verifier")) {
				t.Error("the SRP verifier was kept")
			}
			inner := rec["ShadowHashData"].([]any)[0].([]byte)
			var sh map[string]map[string]any
			if _, err := plist.Unmarshal(inner, &sh); err != nil {
				t.Fatal(err)
			}
			if got := isEmptyPassword(sh[pbkdf2Key]); got != (tt.password == "") {
				t.Errorf("empty password = %v after redaction", got)
			}
			same := bytes.Equal(sh[pbkdf2Key]["entropy"].([]byte), pbkdf2Entropy(t, tt.password))
			if same != tt.wantSamePW {
				t.Errorf("original hash kept = %v, want %v", same, tt.wantSamePW)
			}
		})
	}
	t.Run("an undecodable record is replaced whole", func(t *testing.T) {
		if got := redactDSLocal([]byte("<plist>secret")); bytes.Contains(got, []byte("secret")) {
			t.Errorf("got %q", got)
		}
	})
}

func pbkdf2Entropy(t *testing.T, password string) []byte {
	key, err := pbkdf2.Key(sha512.New, password, bytes.Repeat([]byte{7}, 32), 1000, 128)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestRedactHost(t *testing.T) {
	const winlogon = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	fake := host.NewFake("windows", "amd64").
		AddRegistry(winlogon, "DefaultPassword", host.RegistryValue{Type: "REG_SZ", String: "hunter2"}, nil).
		AddRegistry(winlogon, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: "1"}, nil).
		AddFile("/etc/kcpassword", []byte{0x7d, 0x89}).
		AddFile("/etc/hostname", []byte("laptop\n")).
		AddFile("/proc/4242/environ", []byte("HOME=/home/alice\x00GITHUB_TOKEN=ghp_secret\x00XDG_CONFIG_DIRS=/etc/xdg/plasma:/etc/xdg\x00"+
			"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus\x00XDG_CONFIG_HOME=/home/alice/.cfg\x00"))
	h := Redact(fake)
	t.Run("a process environment keeps only the XDG config variables", func(t *testing.T) {
		b, err := h.ReadFile("/proc/4242/environ")
		if err != nil {
			t.Fatal(err)
		}
		if want := "XDG_CONFIG_DIRS=/etc/xdg/plasma:/etc/xdg\x00XDG_CONFIG_HOME=/home/alice/.cfg\x00"; string(b) != want {
			t.Errorf("environ = %q, want %q", b, want)
		}
	})
	t.Run("the Windows auto-logon password is replaced but still exists", func(t *testing.T) {
		v, err := h.Registry(winlogon, "DefaultPassword")
		if err != nil || v.String != "redacted" || v.Type != "REG_SZ" {
			t.Errorf("got %+v, %v", v, err)
		}
		if v, _ := h.Registry(winlogon, "AutoAdminLogon"); v.String != "1" {
			t.Errorf("other values changed: %+v", v)
		}
	})
	t.Run("kcpassword is replaced and other files pass through", func(t *testing.T) {
		if b, _ := h.ReadFile("/etc/kcpassword"); bytes.Contains(b, []byte{0x7d, 0x89}) {
			t.Error("kcpassword kept")
		}
		if b, _ := h.ReadFile("/etc/hostname"); string(b) != "laptop\n" {
			t.Errorf("hostname = %q", b)
		}
		if _, err := h.ReadFile("/nope"); !errors.Is(err, host.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestWrite(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	fake := host.NewFake("linux", "amd64").
		AddFile("/etc/shadow", []byte("root:"+hash+":19000:0:99999:7:::\n")).
		AddFile("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"))
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	res, err := Write(context.Background(), out, Input{
		Host: fake,
		Device: func(context.Context, host.Host) checks.Device {
			return checks.Device{Hostname: "laptop-7", OS: "linux"}
		},
		Policy: checks.DefaultPolicy(), Now: t0, AgentVersion: "test",
		StatusJSON: []byte(`{"device_id":"d-1"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Controls != len(checks.AllControlIDs) {
		t.Errorf("controls = %d", res.Controls)
	}
	files := readTarGz(t, out)
	t.Run("the bundle replays as a snapshot of the recorded machine", func(t *testing.T) {
		r, err := host.OpenSnapshot(out)
		if err != nil {
			t.Fatal(err)
		}
		if m := r.Meta(); m.Hostname != "laptop-7" || m.RecordedAt.IsZero() || m.GOOS != "linux" {
			t.Errorf("meta = %+v", m)
		}
		if b, err := r.ReadFile("/etc/passwd"); err != nil || !strings.HasPrefix(string(b), "root:x:0") {
			t.Errorf("passwd = %q, %v", b, err)
		}
	})
	t.Run("no password hash is anywhere in the bundle", func(t *testing.T) {
		for name, b := range files {
			if bytes.Contains(b, []byte("saltsalt")) {
				t.Errorf("%s holds the hash", name)
			}
		}
	})
	t.Run("the status and the verdicts are included", func(t *testing.T) {
		if string(files[StatusFile]) != `{"device_id":"d-1"}` {
			t.Errorf("status = %q", files[StatusFile])
		}
		var check struct {
			Controls []checks.Verdict `json:"controls"`
		}
		if err := json.Unmarshal(files[CheckFile], &check); err != nil || len(check.Controls) != len(checks.AllControlIDs) {
			t.Errorf("check.json: %v, %d controls", err, len(check.Controls))
		}
		if !strings.Contains(string(files[ReadmeFile]), "check --replay") {
			t.Error("README missing")
		}
	})
	t.Run("the bundle is readable by its owner only", func(t *testing.T) {
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("mode %v", fi.Mode())
		}
	})
}

func readTarGz(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}
