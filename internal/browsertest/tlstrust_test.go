package browsertest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/cli"
)

// TestDashboardCertificateTrustedByChromium serves the dashboard with
// `serve --tls-cert --tls-key` (a certificate from a test CA, as a
// department's would come from its own) and opens it in Chromium whose
// NSS database trusts that CA, the way an administrator or a managed
// desktop adds a department root: the page loads with no certificate
// error. The same Chromium without the CA, and the server without the
// flags (the device CA's certificate), are refused: what makes it load is
// the trusted certificate, not a lenient browser.
func TestDashboardCertificateTrustedByChromium(t *testing.T) {
	chromium := chromiumPath(t)
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("certutil not found: apt-get install -y libnss3-tools")
		}
		t.Skip("certutil not found; install libnss3-tools")
	}
	dir := t.TempDir()
	caPEM, certFile, keyFile := departmentCertificate(t, dir)

	trusting := filepath.Join(t.TempDir(), "home")
	nssdb := filepath.Join(trusting, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nssdb, "--empty-password"},
		{"-A", "-d", "sql:" + nssdb, "-n", "County test root", "-t", "C,,", "-i", caPEM},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	untrusting := filepath.Join(t.TempDir(), "home")

	withCert := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	deviceCA := startServer(t)

	t.Run("the dashboard with the department's certificate loads with no certificate error", func(t *testing.T) {
		ctx := strictBrowser(t, chromium, trusting)
		if err := chromedp.Do(ctx, chromedp.Navigate("https://"+withCert+"/ui/login"), chromedp.WaitVisible(`input[name=username]`)); err != nil {
			t.Fatalf("open the dashboard: %v", err)
		}
		if got := evaluate[string](ctx, t, `location.protocol + document.title`); !strings.HasPrefix(got, "https:") || !strings.Contains(got, "Sign in") {
			t.Errorf("page %q, want the sign-in page over https", got)
		}
	})
	t.Run("a browser without the department's root refuses the same page", func(t *testing.T) {
		ctx := strictBrowser(t, chromium, untrusting)
		err := chromedp.Do(ctx, chromedp.Navigate("https://"+withCert+"/ui/login"))
		if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("navigate = %v, want ERR_CERT_AUTHORITY_INVALID", err)
		}
	})
	t.Run("without --tls-cert the device CA's certificate is refused even by the trusting browser", func(t *testing.T) {
		ctx := strictBrowser(t, chromium, trusting)
		err := chromedp.Do(ctx, chromedp.Navigate("https://"+deviceCA+"/ui/login"))
		if err == nil || !strings.Contains(err.Error(), "ERR_CERT_") {
			t.Errorf("navigate = %v, want a certificate error", err)
		}
	})
}

// strictBrowser starts headless Chromium with home as HOME (its NSS
// database is home/.pki/nssdb) and no certificate leniency at all.
func strictBrowser(t *testing.T, chromium, home string) context.Context {
	t.Helper()
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME=" + home),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// departmentCertificate writes a CA (PEM) and a server certificate for
// 127.0.0.1 and localhost with its key into dir.
func departmentCertificate(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	// Chromium judges validity by the machine's time, and the server by
	// its clock, which CI may shift 400 days ahead: the certificate spans
	// both.
	now := time.Now() // wall clock: Chromium's own time
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "County Test Root", Organization: []string{"County IT"}}, // wall clock: a unique serial
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(3, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "postern.county.example"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(2, 0, 0), DNSNames: []string{"localhost", "postern.county.example"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der ...[]byte) string {
		var b []byte
		for _, d := range der {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("dashboard.pem", "CERTIFICATE", der, caDER), write("dashboard.key", "PRIVATE KEY", keyDER)
}

// startServer runs `postern-server serve --init` in a new data directory
// with extra flags and returns its HTTPS address; it stops with the test.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	args := append([]string{"serve", "--init", "--data", dir, "--quic", "127.0.0.1:0", "--https", "127.0.0.1:0"}, extra...)
	go func() { done <- cli.Run(ctx, args, io.Discard, &stderr, "test") }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second) // wall clock: a wait, not a date
	for time.Now().Before(deadline) {            // wall clock: a wait, not a date
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Https string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				return line.Https
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen: %s", stderr.String())
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
