package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	servercli "github.com/postern-dev/postern/server/cli"
	"github.com/postern-dev/postern/server/serve"
)

// policyYAML blocks on the firewall and disk encryption, which the
// fixture snapshots carry, and only reports the rest.
const policyYAML = `max_report_age: 15m
controls:
  password_protected: {enforcement: report}
  password_policy: {enforcement: report}
  os_supported: {enforcement: report}
  os_auto_update: {enforcement: report}
  os_patched: {enforcement: report}
  antivirus: {enforcement: report}
  screen_lock: {enforcement: report}
  wifi_encryption: {enforcement: report}
`

type server struct {
	data, quic, https string
}

// startServer runs a real server on loopback until the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	data := t.TempDir()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(policyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := serve.DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr, cfg.PolicyFile = data, "127.0.0.1:0", "127.0.0.1:0", policy
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, cfg, serve.Options{Version: "e2e", Ready: func(q, h net.Addr) { ready <- [2]net.Addr{q, h} }})
	}()
	s := &server{data: data}
	select {
	case a := <-ready:
		s.quic, s.https = a[0].String(), a[1].String()
	case err := <-done:
		cancel()
		t.Fatalf("server exited: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return s
}

// cmd runs a postern-server command and returns its standard output.
func (s *server) cmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--data", s.data)
	if code := servercli.Run(context.Background(), args, &out, &errb, "e2e"); code != 0 {
		t.Fatalf("postern-server %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// allowed asks the decision API about a device.
func (s *server) allowed(t *testing.T, key, deviceID string) bool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.data, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, "https://"+s.https+"/v1/decision?device_id="+deviceID, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var d struct {
		Allow bool `json:"allow"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decision %s: %v", body, err)
	}
	return d.Allow
}

func snapshot(t *testing.T, name string) host.Host {
	t.Helper()
	r, err := host.OpenSnapshot(filepath.Join("..", "..", "checks", "testdata", "snapshots", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// switchHost answers from its current host; Switch replaces it while the
// agent runs, as a user turning the firewall off would.
type switchHost struct {
	mu  sync.Mutex
	cur host.Host
}

func (s *switchHost) get() host.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}
func (s *switchHost) Switch(h host.Host)                   { s.mu.Lock(); s.cur = h; s.mu.Unlock() }
func (s *switchHost) GOOS() string                         { return s.get().GOOS() }
func (s *switchHost) ReadFile(p string) ([]byte, error)    { return s.get().ReadFile(p) }
func (s *switchHost) Stat(p string) (host.FileInfo, error) { return s.get().Stat(p) }
func (s *switchHost) Glob(p string) ([]string, error)      { return s.get().Glob(p) }
func (s *switchHost) ReadDir(p string) ([]string, error)   { return s.get().ReadDir(p) }
func (s *switchHost) Run(ctx context.Context, n string, a ...string) (host.Output, error) {
	return s.get().Run(ctx, n, a...)
}
func (s *switchHost) Registry(k, n string) (host.RegistryValue, error) { return s.get().Registry(k, n) }
func (s *switchHost) WMI(ctx context.Context, ns, q string) ([]map[string]any, error) {
	return s.get().WMI(ctx, ns, q)
}

// eventually polls cond every 50 ms until it holds or limit passes, and
// returns how long it took.
func eventually(t *testing.T, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("condition not reached within %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
