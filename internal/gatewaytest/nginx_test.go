package gatewaytest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const docPath = "../../docs/gateway-nginx.md"

// nginxBlock returns the first ```nginx block of the gateway document.
func nginxBlock(t testing.TB) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.FromSlash(docPath))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no ```nginx block", docPath)
	}
	return string(m[1])
}

// pagesDir is the folder of the gateway's static pages in docs.
func pagesDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.FromSlash("../../docs/gateway"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// substitute replaces every {{NAME}} and fails on any left over.
func substitute(t testing.TB, block string, vals map[string]string) string {
	t.Helper()
	for k, v := range vals {
		block = strings.ReplaceAll(block, "{{"+k+"}}", v)
	}
	if left := regexp.MustCompile(`\{\{[A-Z_]+\}\}`).FindString(block); left != "" {
		t.Fatalf("placeholder %s is not substituted by the test", left)
	}
	return block
}

// findNginx returns the nginx binary, failing in CI and skipping locally
// when there is none.
func findNginx(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const hint = "nginx is not installed: apt-get install -y nginx-light (.ci/run does)"
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx in the foreground with the documented block
// wrapped in a minimal main context of test-only settings, and waits until
// it accepts connections.
func startNginx(t testing.TB, ctx context.Context, bin, block string, port int) {
	t.Helper()
	startNginxWith(t, ctx, bin, block, port, 64)
}

// startNginxWith is startNginx with room for workerConns connections
// (clients, upstreams and Postern together) in its one worker.
func startNginxWith(t testing.TB, ctx context.Context, bin, block string, port, workerConns int) {
	t.Helper()
	prefix := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections %[3]d; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, prefix, block, workerConns)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	test := exec.Command(bin, "-t", "-p", prefix, "-e", "stderr", "-c", path)
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\nconfig:\n%s", err, out, conf)
	}
	runProxy(t, ctx, "nginx", exec.CommandContext(ctx, bin, "-p", prefix, "-e", "stderr", "-c", path), port)
}

// runProxy starts a reverse proxy's command, stops it (SIGINT) when the
// test ends, showing its output if the test failed, and waits until it
// accepts connections on port.
func runProxy(t testing.TB, ctx context.Context, name string, cmd *exec.Cmd, port int) {
	t.Helper()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited: %v\n%s", name, err, out.String())
		case <-ctx.Done():
			t.Fatalf("%s did not listen: %s", name, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer that a running process writes to while
// the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// gatewayCert writes a self-signed certificate for nginx's own listener
// and returns its paths and a pool trusting it.
func gatewayCert(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ehr-gateway"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "gateway.pem"), filepath.Join(dir, "gateway.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// upstream is the tiny application behind the gateway: it says who it
// served.
func upstream(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream served device %s", r.Header.Get("X-Postern-Device"))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// client returns an HTTPS client presenting the certificate in an agent's
// state directory (none if stateDir is empty).
func client(t testing.TB, pool *x509.CertPool, stateDir string) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if stateDir != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(stateDir, "device.pem"), filepath.Join(stateDir, "device.key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

type answer struct {
	status int
	reason string
	body   string
}

func get(t *testing.T, c *http.Client, url string, hdr map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			t.Fatalf("gateway certificate: %v", err)
		}
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("X-Postern-Reason"), string(b)}
}
