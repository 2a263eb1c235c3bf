package gatewaytest

import (
	"bytes"
	"context"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// caddyBlock returns the first ```caddyfile block of the gateway document.
func caddyBlock(t testing.TB) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.FromSlash(docPath))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no ```caddyfile block", docPath)
	}
	return string(m[1])
}

// findCaddy returns Debian's caddy, failing in CI and skipping locally
// when there is none.
func findCaddy(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("caddy"); err == nil {
		return path
	}
	const hint = "caddy is not installed: apt-get install -y caddy (.ci/run does)"
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// startCaddy runs caddy with the documented site block behind test-only
// global options (no admin endpoint, state in a temporary directory), and
// waits until it accepts connections on port.
func startCaddy(t testing.TB, ctx context.Context, bin, block string, port int) {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("{\n\tadmin off\n\tstorage file_system %s\n\thttp_port %d\n}\n\n%s", dir, freePort(t), block)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	validate := exec.Command(bin, "validate", "--adapter", "caddyfile", "--config", path)
	validate.Env = env
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s\nconfig:\n%s", err, out, conf)
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--adapter", "caddyfile", "--config", path)
	cmd.Env = env
	runProxy(t, ctx, "caddy", cmd, port)
}

// TestCaddyForwardAuth runs Debian's Caddy with the documented block in
// front of the upstream, asking a real postern-server about devices
// enrolled by the real agent.
func TestCaddyForwardAuth(t *testing.T) {
	bin := findCaddy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	good, goodID := enroll(t, ctx, srv, "linux-compliant")
	bad, _ := enroll(t, ctx, srv, "linux-noncompliant")

	certFile, keyFile, pool := gatewayCert(t, t.TempDir())
	port := freePort(t)
	conf := substitute(t, caddyBlock(t), map[string]string{
		"SITE":         fmt.Sprintf("https://localhost:%d", port),
		"SERVER_CERT":  certFile,
		"SERVER_KEY":   keyFile,
		"DEVICE_CA":    srv.CAFile(),
		"POSTERN":      srv.HTTPSAddr,
		"POSTERN_NAME": "localhost",
		"POSTERN_CA":   srv.CAFile(),
		"UPSTREAM":     upstream(t),
	})
	startCaddy(t, ctx, bin, conf, port)
	url := fmt.Sprintf("https://localhost:%d/ehr/session", port)
	goodPEM, err := os.ReadFile(filepath.Join(good, "device.pem"))
	if err != nil {
		t.Fatal(err)
	}
	spoof := map[string]string{"X-Client-Cert": neturl.QueryEscape(string(goodPEM))}

	tests := []struct {
		name       string
		state      string
		hdr        map[string]string
		status     int
		wantBody   string
		wantReason string
	}{
		{"a compliant enrolled device reaches the upstream", good, nil, 200, "upstream served device " + goodID, ""},
		{"a non-compliant device is refused with the reasons", bad, nil, 403, "", "control_failed:firewall, control_failed:disk_encryption"},
		{"a non-compliant device sending a compliant device's certificate header is still refused", bad, spoof, 403, "",
			"control_failed:firewall, control_failed:disk_encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, client(t, pool, tt.state), url, tt.hdr)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if a.body != tt.wantBody && (tt.wantBody == "" || !bytes.Contains([]byte(a.body), []byte(tt.wantBody))) {
				t.Errorf("body %q, want %q", a.body, tt.wantBody)
			}
			if !sameReasons(a.reason, tt.wantReason) {
				t.Errorf("X-Postern-Reason %q, want %q", a.reason, tt.wantReason)
			}
		})
	}
	t.Run("a client without a certificate is refused in the handshake", func(t *testing.T) {
		if _, err := client(t, pool, "").Get(url); err == nil {
			t.Error("the request went through")
		}
	})
}
