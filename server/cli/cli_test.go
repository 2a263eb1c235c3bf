package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/serve"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb, "test")
	return out.String(), errb.String(), code
}

func TestSecretCommands(t *testing.T) {
	dir := serverDir(t)
	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"token create prints only a token", []string{"token", "create", "--data", dir, "--ttl", "1h", "--org", "clinic"}, regexp.MustCompile(`^pt1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\n$`)},
		{"apikey create prints only a key", []string{"apikey", "create", "--name", "nginx", "--data", dir}, regexp.MustCompile(`^pk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$`)},
		{"version prints the version", []string{"version"}, regexp.MustCompile(`^postern-server test\n$`)},
		{"--version prints the version", []string{"--version"}, regexp.MustCompile(`^postern-server test\n$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != 0 || !tt.want.MatchString(out) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
	t.Run("the token pins the CA in the data dir", func(t *testing.T) {
		out, _, _ := run(t, "token", "create", "--data", dir)
		tok, err := pb.ParseEnrollToken(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err != nil {
			t.Fatal(err)
		}
		_ = tok
	})
	errTests := []struct {
		name string
		args []string
		code int
	}{
		{"an unknown flag is a usage error", []string{"token", "create", "--bogus"}, 2},
		{"a zero ttl is a usage error", []string{"token", "create", "--data", dir, "--ttl", "0s"}, 2},
		{"apikey without a name is a usage error", []string{"apikey", "create", "--data", dir}, 2},
		{"an unknown command is a usage error", []string{"frobnicate"}, 2},
		{"an extra argument is a usage error", []string{"token", "create", "extra", "--data", dir}, 2},
		{"serve with a bad address fails", []string{"serve", "--data", dir, "--quic", "nope"}, 1},
		{"serve with a bad proxy CIDR fails", []string{"serve", "--data", dir, "--trusted-proxy", "10.0.0.0/99"}, 1},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, code := run(t, tt.args...)
			if code != tt.code || out != "" {
				t.Fatalf("exit %d (want %d), stdout %q", code, tt.code, out)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	dir := serverDir(t)
	key, _, code := run(t, "apikey", "create", "--name", "gw", "--data", dir)
	if code != 0 {
		t.Fatal("apikey create failed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--data", dir, "--quic", "127.0.0.1:0", "--https", "127.0.0.1:0"}, io.Discard, &stderr, "test")
	}()
	httpsAddr := waitListening(t, &stderr)

	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Time: clock.Now}}}
	defer client.CloseIdleConnections()
	t.Run("healthz answers over TLS signed by the device CA", func(t *testing.T) {
		resp, err := client.Get("https://" + httpsAddr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("an unknown device is denied with the CLI's API key", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "https://"+httpsAddr+"/v1/decision?device_id=ghost", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct {
			Allow   bool
			Reasons []struct{ Code string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || d.Allow || len(d.Reasons) != 1 || d.Reasons[0].Code != "device_unknown" {
			t.Errorf("status %d decision %+v", resp.StatusCode, d)
		}
	})
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitListening returns the HTTPS address from serve's "listening" log line.
func waitListening(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Quic, Https string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				if !strings.HasPrefix(line.Quic, "127.0.0.1:") || strings.HasSuffix(line.Quic, ":0") {
					t.Fatalf("quic address %q", line.Quic)
				}
				return line.Https
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no listening line; stderr: %s", stderr.String())
	return ""
}

// serverDir is a data directory holding a new server, made by `init`.
func serverDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, errOut, code := run(t, "init", "--data", dir); code != 0 || !strings.Contains(out, "new Postern server in "+dir) {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	return dir
}

// TestDataDirectoryRefusals: nothing but init creates a server, and a
// database lost next to a CA is never silently replaced by an empty one.
func TestDataDirectoryRefusals(t *testing.T) {
	t.Run("token create in an empty directory refuses, naming the path and the flag, and creates nothing", func(t *testing.T) {
		dir := t.TempDir()
		out, errOut, code := run(t, "token", "create", "--data", dir)
		if code != 1 || out != "" || !strings.Contains(errOut, dir) || !strings.Contains(errOut, "serve --init") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("the directory now holds %d entries", len(entries))
		}
	})
	t.Run("audit verify on a mistyped directory refuses instead of verifying 0 rows", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "typo")
		out, errOut, code := run(t, "audit", "verify", "--data", dir)
		if code != 1 || strings.Contains(out, "ok") || !strings.Contains(errOut, "does not exist") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Error("the mistyped directory was created")
		}
	})
	damages := []struct {
		name   string
		damage func(db string) error
		says   string
	}{
		{"a deleted database", os.Remove, "is missing"},
		{"an emptied database", func(db string) error { return os.Truncate(db, 0) }, "is empty"},
		{"a database cut short", func(db string) error {
			fi, err := os.Stat(db)
			if err != nil {
				return err
			}
			return os.Truncate(db, fi.Size()/2)
		}, "is truncated"},
		{"a file that is not a database", func(db string) error { return os.WriteFile(db, bytes.Repeat([]byte("x"), 4096), 0o600) }, "is not a SQLite database"},
	}
	for _, tt := range damages {
		t.Run(tt.name+" next to the CA is refused by every command, with the file and what to do", func(t *testing.T) {
			dir := serverDir(t)
			for range 20 { // enough rows for more than one page
				if _, errOut, code := run(t, "token", "create", "--data", dir); code != 0 {
					t.Fatal(errOut)
				}
			}
			db := filepath.Join(dir, "postern.db")
			for _, suffix := range []string{"-wal", "-shm"} {
				os.Remove(db + suffix)
			}
			if err := tt.damage(db); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(db)
			for _, args := range [][]string{{"token", "create"}, {"device", "list"}, {"serve", "--quic", "127.0.0.1:0", "--https", "127.0.0.1:0"}} {
				out, errOut, code := run(t, append(args, "--data", dir)...)
				if code != 1 || out != "" || !strings.Contains(errOut, db) || !strings.Contains(errOut, tt.says) ||
					!strings.Contains(errOut, "backup") || !strings.Contains(errOut, "--init") {
					t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
				}
			}
			if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
				t.Error("the damaged database was changed")
			}
		})
	}
	t.Run("init refuses a damaged database; serve --init starts over with the same CA and keeps the damaged file aside", func(t *testing.T) {
		dir := serverDir(t)
		caBefore, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
		db := filepath.Join(dir, "postern.db")
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
		if err := os.Truncate(db, 0); err != nil {
			t.Fatal(err)
		}
		if out, errOut, code := run(t, "init", "--data", dir); code != 1 || !strings.Contains(errOut, "is empty") {
			t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		note, err := serve.CheckServerDir(serve.Config{DataDir: dir}, true)
		if err != nil || !strings.Contains(note, "moved to "+db+".damaged-") {
			t.Fatalf("start over: note %q, err %v", note, err)
		}
		// The rest of serve --init: a new database, bound to the same CA.
		st, _, err := serve.OpenStore(t.Context(), serve.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		_, err = serve.LoadCA(t.Context(), st, dir, clock.Now())
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if caAfter, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); !bytes.Equal(caBefore, caAfter) {
			t.Error("the CA changed")
		}
		if aside, _ := filepath.Glob(db + ".damaged-*"); len(aside) != 1 {
			t.Errorf("kept aside: %v", aside)
		}
		if _, errOut, code := run(t, "token", "create", "--data", dir); code != 0 {
			t.Errorf("token create after starting over: %s", errOut)
		}
	})
	t.Run("init reads the data directory from serve's configuration file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "from-config")
		cfg := filepath.Join(t.TempDir(), "server.yaml")
		if err := os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, errOut, code := run(t, "init", "--config", cfg); code != 0 || !strings.Contains(out, dir) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("init on an existing server changes nothing", func(t *testing.T) {
		dir := serverDir(t)
		out, _, code := run(t, "init", "--data", dir)
		if code != 0 || !strings.Contains(out, "already holds a Postern server") {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
	})
}
