package serve

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
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testCA is a department CA of the tests, not Postern's.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string, now time.Time) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert: cert, key: key, pool: pool}
}

// issue writes a server certificate for 127.0.0.1 and localhost valid
// from notBefore to notAfter, and its key, into dir as cert.pem and
// key.pem, and returns their paths.
func (ca testCA) issue(t *testing.T, dir string, serial int64, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "console.county.example"},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedSerial handshakes with addr trusting only pool and returns the
// serial of the certificate served.
func servedSerial(t *testing.T, addr string, pool *x509.CertPool, at time.Time) (int64, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12,
		Time: func() time.Time { return at }})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// serveTLS serves c's certificate on a loopback listener until the test ends.
func serveTLS(t *testing.T, c *httpsCert) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: c.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				conn.(*tls.Conn).Handshake()
				conn.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

func TestHTTPSCertificateReload(t *testing.T) {
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dept := newTestCA(t, "County IT Root", now)
	dir := t.TempDir()
	certFile, keyFile := dept.issue(t, dir, 100, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c, err := newHTTPSCert(certFile, keyFile, tls.Certificate{}, log, clock)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, c)

	if got, err := servedSerial(t, addr, dept.pool, now); err != nil || got != 100 {
		t.Fatalf("a client trusting only the department's CA: serial %d, %v; want 100 and no error", got, err)
	}

	// A renewed certificate in place: served from the next handshake on.
	dept.issue(t, dir, 101, now.Add(-time.Hour), now.Add(2*365*24*time.Hour))
	if err := c.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got, err := servedSerial(t, addr, dept.pool, now); err != nil || got != 101 {
		t.Fatalf("after reload: serial %d, %v; want 101", got, err)
	}

	bad := []struct {
		name    string
		prepare func(t *testing.T)
		reason  string
	}{
		{"A key that is not the certificate's keeps the current certificate", func(t *testing.T) {
			other := t.TempDir()
			_, otherKey := dept.issue(t, other, 102, now.Add(-time.Hour), now.Add(time.Hour*24*400))
			dept.issue(t, dir, 103, now.Add(-time.Hour), now.Add(time.Hour*24*400))
			copyFile(t, otherKey, keyFile)
		}, "private key does not match public key"},
		{"A truncated certificate file keeps the current certificate", func(t *testing.T) {
			dept.issue(t, dir, 104, now.Add(-time.Hour), now.Add(time.Hour*24*400))
			b, _ := os.ReadFile(certFile)
			os.WriteFile(certFile, b[:len(b)/2], 0o600)
		}, "failed to find any PEM data"},
		{"An expired certificate keeps the current certificate", func(t *testing.T) {
			dept.issue(t, dir, 105, now.Add(-48*time.Hour), now.Add(-time.Hour))
		}, "expired at"},
		{"A missing key file keeps the current certificate", func(t *testing.T) {
			dept.issue(t, dir, 106, now.Add(-time.Hour), now.Add(time.Hour*24*400))
			os.Remove(keyFile)
		}, "no such file"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			tc.prepare(t)
			err := c.Reload()
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("reload error = %v; want one saying %q", err, tc.reason)
			}
			if got, err := servedSerial(t, addr, dept.pool, now); err != nil || got != 101 {
				t.Errorf("after a failed reload: serial %d, %v; want 101 still", got, err)
			}
			if !strings.Contains(logs.String(), "https certificate reload failed") || !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("log does not say why the reload failed:\n%s", logs.String())
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPSCertificateRefusedAtStart(t *testing.T) {
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	dept := newTestCA(t, "County IT Root", now)
	dir := t.TempDir()
	certFile, keyFile := dept.issue(t, dir, 7, now.Add(-48*time.Hour), now.Add(-time.Hour))
	_, err := newHTTPSCert(certFile, keyFile, tls.Certificate{}, slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err == nil || !strings.Contains(err.Error(), "expired at") {
		t.Fatalf("start with an expired certificate: %v; want a refusal saying it expired", err)
	}
}

func TestHTTPSCertificateExpiryWatch(t *testing.T) {
	start := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	dept := newTestCA(t, "County IT Root", start)
	notAfter := start.Add(90 * 24 * time.Hour)
	certFile, keyFile := dept.issue(t, t.TempDir(), 9, start.Add(-time.Hour), notAfter)
	var logs bytes.Buffer
	c, err := newHTTPSCert(certFile, keyFile, tls.Certificate{}, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := c.register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var gauge float64
	for _, mf := range mfs {
		if mf.GetName() == "postern_https_certificate_not_after_seconds" {
			gauge = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if gauge != float64(notAfter.Unix()) {
		t.Errorf("postern_https_certificate_not_after_seconds = %v, want %d", gauge, notAfter.Unix())
	}

	for _, tc := range []struct {
		name string
		at   time.Time
		warn bool
	}{
		{"Sixty days before the end is quiet", notAfter.Add(-60 * 24 * time.Hour), false},
		{"Thirty-one days before the end is quiet", notAfter.Add(-31 * 24 * time.Hour), false},
		{"Thirty days before the end warns", notAfter.Add(-30 * 24 * time.Hour), true},
		{"Two days before the end warns", notAfter.Add(-2 * 24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = tc.at
			logs.Reset()
			if got := c.checkExpiry(); got != tc.warn {
				t.Errorf("checkExpiry() = %v, want %v", got, tc.warn)
			}
			if got := strings.Contains(logs.String(), "https certificate expiring"); got != tc.warn {
				t.Errorf("warning logged = %v, want %v:\n%s", got, tc.warn, logs.String())
			}
		})
	}
}

// TestServeWithOperatorCertificate runs the whole server with
// --tls-cert/--tls-key: a client trusting only the department's CA
// reaches the HTTPS port, and SIGHUP swaps the certificate.
func TestServeWithOperatorCertificate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGHUP is a Unix signal")
	}
	now := time.Now() // wall clock: the TLS client judges validity by it
	dept := newTestCA(t, "County IT Root", now)
	tlsDir := t.TempDir()
	certFile, keyFile := dept.issue(t, tlsDir, 200, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	cfg := DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, cfg, Options{Init: true, Now: func() time.Time { return now }, Ready: func(_, https net.Addr) { addrs <- https }})
	}()
	var addr string
	select {
	case a := <-addrs:
		addr = a.String()
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: dept.pool}}}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a client trusting only the department's CA: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}

	dept.issue(t, tlsDir, 201, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var got int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, err = servedSerial(t, addr, dept.pool, now); err == nil && got == 201 {
			break
		}
	}
	if got != 201 {
		t.Errorf("after SIGHUP the HTTPS port serves serial %d (%v), want 201", got, err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("serve: %v", err)
	}
}
