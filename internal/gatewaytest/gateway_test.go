package gatewaytest

import (
	"context"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/internal/testserver"
)

// policyYAML reports, without blocking, the controls whose collectors the
// fixture snapshots do not exercise, so that the decisions turn on
// firewall and disk encryption, which they carry.
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

// startServer runs postern-server in-process, trusting loopback proxies.
func startServer(t testing.TB, ctx context.Context) *testserver.Server {
	t.Helper()
	return testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, TrustedProxies: []string{"127.0.0.1/32"}})
}

// enroll enrolls an agent (state in a new directory) and has it report the
// snapshot once; it returns the state directory and the device ID.
func enroll(t testing.TB, ctx context.Context, s *testserver.Server, snap string) (string, string) {
	t.Helper()
	state := t.TempDir()
	token := s.Cmd(t, "token", "create")
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: s.QUICAddr, Token: token, Host: testserver.Snapshot(t, snap)})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	report(t, ctx, state, snap)
	return state, id.DeviceID
}

func report(t testing.TB, ctx context.Context, state, snap string) {
	t.Helper()
	r, err := runner.New(runner.Config{StateDir: state, Host: testserver.Snapshot(t, snap), AckTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if res.Ack == nil {
		t.Fatalf("report %d was not acked", res.Sequence)
	}
}

func TestNginxAuthRequest(t *testing.T) {
	bin := findNginx(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	good, goodID := enroll(t, ctx, srv, "linux-compliant")
	bad, _ := enroll(t, ctx, srv, "linux-noncompliant")

	dir := t.TempDir()
	certFile, keyFile, pool := gatewayCert(t, dir)
	port := freePort(t)
	caFile := srv.CAFile()
	conf := substitute(t, nginxBlock(t), map[string]string{
		"LISTEN":       fmt.Sprintf("127.0.0.1:%d", port),
		"SERVER_CERT":  certFile,
		"SERVER_KEY":   keyFile,
		"DEVICE_CA":    caFile,
		"POSTERN":      srv.HTTPSAddr,
		"POSTERN_NAME": "localhost",
		"POSTERN_CA":   caFile,
		"UPSTREAM":     upstream(t),
		"PAGES":        pagesDir(t),
	})
	startNginx(t, ctx, bin, conf, port)
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
		{"a non-compliant device is refused with Postern's block page", bad, nil, 403, "This device may not open the EHR right now",
			"control_failed:firewall, control_failed:disk_encryption"},
		{"a client without a certificate is refused by nginx", "", nil, 400, "", ""},
		{"a non-compliant device sending a compliant device's certificate header is still refused", bad, spoof, 403, "", "control_failed:firewall, control_failed:disk_encryption"},
		{"a client without a certificate sending one in a header is refused by nginx", "", spoof, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, client(t, pool, tt.state), url, tt.hdr)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if !strings.Contains(a.body, tt.wantBody) {
				t.Errorf("body %q, want it to contain %q", a.body, tt.wantBody)
			}
			if !sameReasons(a.reason, tt.wantReason) {
				t.Errorf("X-Postern-Reason %q, want %q", a.reason, tt.wantReason)
			}
		})
	}
}

// TestNginxWithPosternDown: with the server stopped, nginx fails closed
// and serves the static "could not be verified" page with 503, not a bare
// 500 and never the upstream.
func TestNginxWithPosternDown(t *testing.T) {
	bin := findNginx(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	good, _ := enroll(t, ctx, srv, "linux-compliant")
	dir := t.TempDir()
	certFile, keyFile, pool := gatewayCert(t, dir)
	port := freePort(t)
	conf := substitute(t, nginxBlock(t), map[string]string{
		"LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "SERVER_CERT": certFile, "SERVER_KEY": keyFile,
		"DEVICE_CA": srv.CAFile(), "POSTERN": srv.HTTPSAddr, "POSTERN_NAME": "localhost", "POSTERN_CA": srv.CAFile(),
		"UPSTREAM": upstream(t), "PAGES": pagesDir(t),
	})
	startNginx(t, ctx, bin, conf, port)
	url := fmt.Sprintf("https://localhost:%d/ehr/session", port)
	c := client(t, pool, good)
	if a := get(t, c, url, nil); a.status != 200 {
		t.Fatalf("before the stop: status %d: %s", a.status, a.body)
	}
	srv.Stop()
	c.CloseIdleConnections()
	a := get(t, c, url, nil)
	if a.status != 503 || !strings.Contains(a.body, `id="postern-unreachable"`) || strings.Contains(a.body, "upstream served") {
		t.Fatalf("with Postern stopped: status %d body %q, want 503 and the unreachable page", a.status, a.body)
	}
}

// sameReasons compares comma-separated reason lists regardless of order.
func sameReasons(a, b string) bool {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				m[p] = true
			}
		}
		return m
	}
	x, y := split(a), split(b)
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if !y[k] {
			return false
		}
	}
	return true
}
