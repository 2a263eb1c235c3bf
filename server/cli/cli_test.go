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
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb, "test")
	return out.String(), errb.String(), code
}

func TestSecretCommands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"token create prints only a token", []string{"token", "create", "--data", dir, "--ttl", "1h", "--org", "clinic"}, regexp.MustCompile(`^pt1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\n$`)},
		{"apikey create prints only a key", []string{"apikey", "create", "--name", "nginx", "--data", dir}, regexp.MustCompile(`^pk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$`)},
		{"version prints the version", []string{"version"}, regexp.MustCompile(`^postern-server test\n$`)},
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
		{"apikey without a name fails", []string{"apikey", "create", "--data", dir}, 1},
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
	dir := t.TempDir()
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
