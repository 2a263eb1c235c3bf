package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/ca"
	servercli "github.com/postern-dev/postern/server/cli"
	"github.com/postern-dev/postern/server/serve"
)

// startLimit bounds how long Start waits for the listeners, and how long
// it waits for a server that did not start to wind down.
const startLimit = 20 * time.Second

// version is what the server and its CLI report as their version.
const version = "testserver"

// Options configures Start. The zero value is a server with the default
// policy, the real clock and a new data directory.
type Options struct {
	// Policy is the policy YAML (checks.ParsePolicy); empty means the
	// server's default policy.
	Policy string
	// Now is the server's clock; nil means clock.Now.
	Now func() time.Time
	// TrustedProxies are CIDRs whose /v1/authz requests may carry a
	// client certificate header.
	TrustedProxies []string
	// DataDir is the server's data directory; empty means a new
	// temporary directory. Reusing one restarts a stopped server.
	DataDir string
	// GatewayURL is sent to agents at enrollment (serve --gateway-url).
	GatewayURL string
	// TPMEKCAs is a PEM of the TPM manufacturer CAs the server trusts
	// (serve's tpm_ek_ca_file); empty trusts none.
	TPMEKCAs []byte
	// QUICAddr is the agents' address; empty means 127.0.0.1:0.
	QUICAddr string
	// Replicas are handed to agents for failover (serve --replica).
	Replicas []string
}

// Server is a running in-process postern-server.
type Server struct {
	// DataDir is the server's data directory, holding ca.pem.
	DataDir string
	// QUICAddr is the bound agent (QUIC) address, host:port.
	QUICAddr string
	// HTTPSAddr is the bound HTTPS (decision API) address, host:port.
	HTTPSAddr string

	tb     testing.TB
	cancel context.CancelFunc
	done   chan error
	pool   *x509.CertPool
	client *http.Client
}

// Start runs a server until ctx ends, Stop is called or the test ends,
// whichever is first. It fails the test if the server does not start
// within 20 seconds or exits first; it then does not leave a cleanup
// waiting on a server that is not running.
func Start(t testing.TB, ctx context.Context, opt Options) *Server {
	t.Helper()
	cfg := serve.DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr = opt.DataDir, "127.0.0.1:0", "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	// A new directory gets a new server; a reused one is restarted as it
	// is, and refused if it is damaged, as a real restart would be.
	_, err := os.Stat(filepath.Join(cfg.DataDir, ca.CAFile))
	init := err != nil
	if opt.Policy != "" {
		cfg.PolicyFile = filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(cfg.PolicyFile, []byte(opt.Policy), 0o600); err != nil {
			t.Fatalf("write policy: %v", err)
		}
	}
	cfg.TrustedProxies = opt.TrustedProxies
	cfg.GatewayURL = opt.GatewayURL
	if len(opt.TPMEKCAs) > 0 {
		cfg.TPMEKCAFile = filepath.Join(t.TempDir(), "tpm-ek-ca.pem")
		if err := os.WriteFile(cfg.TPMEKCAFile, opt.TPMEKCAs, 0o600); err != nil {
			t.Fatalf("write TPM EK CAs: %v", err)
		}
	}
	cfg.Replicas = opt.Replicas
	if opt.QUICAddr != "" {
		cfg.QUICAddr = opt.QUICAddr
	}

	sctx, cancel := context.WithCancel(ctx)
	s := &Server{DataDir: cfg.DataDir, tb: t, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan [2]net.Addr, 1)
	go func() {
		s.done <- serve.Run(sctx, cfg, serve.Options{Now: opt.Now, Version: version, Init: init,
			Ready: func(q, h net.Addr) { ready <- [2]net.Addr{q, h} }})
	}()
	timer := time.NewTimer(startLimit)
	defer timer.Stop()
	select {
	case a := <-ready:
		s.QUICAddr, s.HTTPSAddr = a[0].String(), a[1].String()
	case err := <-s.done:
		cancel()
		t.Fatalf("server exited before it was ready: %v", err)
	case <-timer.C:
		s.abandon()
		t.Fatalf("server did not start within %v", startLimit)
	case <-ctx.Done():
		s.abandon()
		t.Fatalf("server did not start: %v", ctx.Err())
	}
	t.Cleanup(s.Stop)
	pool, err := loadCA(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	s.pool = pool
	// The client judges the server's certificate by the server's clock: a
	// test that pins "now" for the server must not see its certificate
	// expire a year after that day.
	now := opt.Now
	if now == nil {
		now = clock.Now
	}
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", Time: now}}}
	return s
}

// abandon cancels a server that did not start and gives it a bounded
// time to stop, so that it is not writing to a data directory the test
// is removing.
func (s *Server) abandon() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(startLimit):
	}
}

// loadCA reads the server's CA certificate into a pool.
func loadCA(dir string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(filepath.Join(dir, ca.CAFile))
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("load ca: no certificate in %s", ca.CAFile)
	}
	return pool, nil
}

// Stop shuts the server down and waits for it, reporting a shutdown
// error as a test error. It is safe to call more than once; the test's
// cleanup calls it too.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	if err := <-s.done; err != nil {
		s.tb.Errorf("server: %v", err)
	}
}

// CAPool returns a pool holding the server's CA certificate, which signs
// its HTTPS certificate (for the name localhost) and device certificates.
func (s *Server) CAPool() *x509.CertPool { return s.pool }

// CAFile returns the path of the server's CA certificate (PEM).
func (s *Server) CAFile() string { return filepath.Join(s.DataDir, ca.CAFile) }

// Client returns an HTTPS client that trusts the server's CA and expects
// the name localhost.
func (s *Server) Client() *http.Client { return s.client }

// Cmd runs a postern-server command against the server's data directory,
// as an administrator would, and returns its trimmed standard output. It
// appends --data DataDir to args and fails the test on a non-zero exit.
func (s *Server) Cmd(t testing.TB, args ...string) string {
	t.Helper()
	return s.CmdAt(t, clock.Now, args...)
}

// CmdAt is Cmd with the command's clock set to now.
func (s *Server) CmdAt(t testing.TB, now func() time.Time, args ...string) string {
	t.Helper()
	args = append(append([]string(nil), args...), "--data", s.DataDir)
	var out, errb bytes.Buffer
	if code := servercli.RunAt(context.Background(), args, &out, &errb, version, now); code != 0 {
		t.Fatalf("postern-server %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// Snapshot opens a recorded machine under checks/testdata/snapshots by
// name (for example "linux-compliant").
func Snapshot(t testing.TB, name string) host.Host {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "checks", "testdata", "snapshots", name)
	h, err := host.OpenSnapshot(dir)
	if err != nil {
		t.Fatalf("open snapshot %s: %v", name, err)
	}
	return h
}
