package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	servercli "github.com/postern-dev/postern/server/cli"
	"github.com/postern-dev/postern/server/serve"
)

// clock is a settable clock shared by server and agent.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// policyYAML is the Policy 550.04 default except for the three controls
// whose verdict depends on today's date (definition age, end-of-life
// dates, pending-update age): the fixture snapshots were recorded on a
// fixed day, so those are reported without blocking to keep the test true
// on any future day. Every other control blocks as in production.
const policyYAML = `max_report_age: 15m
controls:
  antivirus: {enforcement: report}
  os_supported: {enforcement: report}
  os_patched: {enforcement: report}
`

type server struct {
	data  string
	quic  string
	https string
	stop  func()
	done  chan error
}

func startServer(t *testing.T, ctx context.Context, data string, clk *clock) *server {
	t.Helper()
	return startServerWithPolicy(t, ctx, data, clk, policyYAML)
}

func startServerWithPolicy(t *testing.T, ctx context.Context, data string, clk *clock, yaml string) *server {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := serve.DefaultConfig()
	cfg.DataDir, cfg.QUICAddr, cfg.HTTPSAddr, cfg.PolicyFile = data, "127.0.0.1:0", "127.0.0.1:0", policy
	ready := make(chan [2]net.Addr, 1)
	sctx, cancel := context.WithCancel(ctx)
	s := &server{data: data, stop: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- serve.Run(sctx, cfg, serve.Options{Now: clk.Now, Version: "e2e",
			Ready: func(q, h net.Addr) { ready <- [2]net.Addr{q, h} }})
	}()
	select {
	case a := <-ready:
		s.quic, s.https = a[0].String(), a[1].String()
	case err := <-s.done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { s.shutdown(t) })
	return s
}

func (s *server) shutdown(t *testing.T) {
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	if err := <-s.done; err != nil {
		t.Errorf("server: %v", err)
	}
}

// serverCmd runs a postern-server command, as an admin would, and returns
// its standard output.
func serverCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := servercli.Run(context.Background(), args, &out, &errb, "e2e"); code != 0 {
		t.Fatalf("postern-server %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

type decision struct {
	Allow   bool   `json:"allow"`
	Device  string `json:"device_id"`
	Reasons []struct {
		Code        string `json:"code"`
		Control     string `json:"control"`
		Message     string `json:"message"`
		Remediation string `json:"remediation"`
	} `json:"reasons"`
	PostureAge  *float64 `json:"posture_age_seconds"`
	EvaluatedAt string   `json:"evaluated_at"`
}

func (d decision) codes() []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code+":"+r.Control)
	}
	return out
}

func getDecision(t *testing.T, s *server, key, query string) decision {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.data, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	req, _ := http.NewRequest("GET", "https://"+s.https+"/v1/decision?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("decision: HTTP %d: %s", resp.StatusCode, body)
	}
	var d decision
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decision body %s: %v", body, err)
	}
	return d
}

func snapshot(t *testing.T, name string) host.Host {
	t.Helper()
	r, err := host.OpenSnapshot(filepath.Join("..", "..", "checks", "testdata", "snapshots", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func report(t *testing.T, ctx context.Context, stateDir string, h host.Host, clk *clock) runner.Result {
	t.Helper()
	r, err := runner.New(runner.Config{StateDir: stateDir, Host: h, Clock: clk.Now, AckTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("run --once: %v", err)
	}
	if res.Ack == nil || res.Ack.Sequence != res.Sequence {
		t.Fatalf("report %d was not acked: %+v", res.Sequence, res.Ack)
	}
	return res
}

func TestAgentEnrollsReportsAndTheGatewayDecides(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: time.Now()}
	data, state := t.TempDir(), t.TempDir()
	srv := startServer(t, ctx, data, clk)
	token := serverCmd(t, "token", "create", "--data", data)
	key := serverCmd(t, "apikey", "create", "--name", "gateway", "--data", data)

	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: srv.quic, Token: token,
		Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	query := "device_id=" + id.DeviceID

	t.Run("an unreported device is denied", func(t *testing.T) {
		d := getDecision(t, srv, key, query)
		if d.Allow || len(d.Reasons) == 0 {
			t.Fatalf("got %+v, want a deny with a reason", d)
		}
	})

	t.Run("a compliant report is allowed", func(t *testing.T) {
		res := report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		d := getDecision(t, srv, key, query)
		if !d.Allow {
			t.Fatalf("got deny %v; agent saw %v", d.codes(), statuses(res.Verdicts))
		}
		if d.Device != id.DeviceID || d.EvaluatedAt == "" || d.PostureAge == nil {
			t.Errorf("decision lacks its fields: %+v", d)
		}
	})

	t.Run("the same device by certificate hash gets the same answer", func(t *testing.T) {
		d := getDecision(t, srv, key, "cert_sha256="+id.CertSHA256)
		if !d.Allow || d.Device != id.DeviceID {
			t.Fatalf("got %+v", d)
		}
	})

	t.Run("a non-compliant report is denied with the failing controls as reasons", func(t *testing.T) {
		clk.Advance(time.Minute)
		report(t, ctx, state, snapshot(t, "linux-noncompliant"), clk)
		d := getDecision(t, srv, key, query)
		want := []string{
			"control_failed:password_protected", "control_failed:password_policy", "control_failed:firewall",
			"control_failed:os_auto_update", "control_failed:screen_lock", "control_failed:wifi_encryption",
			"control_failed:disk_encryption",
		}
		if d.Allow || fmt.Sprint(d.codes()) != fmt.Sprint(want) {
			t.Fatalf("got allow=%v reasons %v, want deny for %v", d.Allow, d.codes(), want)
		}
		for _, r := range d.Reasons {
			if r.Message == "" || r.Remediation == "" {
				t.Errorf("reason %s:%s lacks a message or a fix: %+v", r.Code, r.Control, r)
			}
		}
	})

	t.Run("compliant again, then silent: denied as stale once past the limit", func(t *testing.T) {
		clk.Advance(time.Minute)
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := getDecision(t, srv, key, query); !d.Allow {
			t.Fatalf("back to compliant: got %v", d.codes())
		}
		clk.Advance(14 * time.Minute)
		if d := getDecision(t, srv, key, query); !d.Allow {
			t.Fatalf("14 minutes old: got %v", d.codes())
		}
		clk.Advance(2 * time.Minute)
		d := getDecision(t, srv, key, query)
		if d.Allow || fmt.Sprint(d.codes()) != "[report_stale:]" {
			t.Fatalf("16 minutes old: got allow=%v %v, want deny report_stale", d.Allow, d.codes())
		}
	})

	t.Run("after a restart on the same data dir the device, posture and key survive", func(t *testing.T) {
		srv.shutdown(t)
		clk.Advance(time.Minute)
		srv2 := startServer(t, ctx, data, clk)
		if d := getDecision(t, srv2, key, query); d.Allow || fmt.Sprint(d.codes()) != "[report_stale:]" {
			t.Fatalf("after restart: got allow=%v %v, want the stale posture still there", d.Allow, d.codes())
		}
		// The agent finds the restarted server at its new port.
		rewriteServer(t, state, srv2.quic)
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := getDecision(t, srv2, key, query); !d.Allow {
			t.Fatalf("fresh report after restart: got %v", d.codes())
		}
	})
}

func statuses(vs []checks.Verdict) map[checks.ControlID]checks.Status {
	out := map[checks.ControlID]checks.Status{}
	for _, v := range vs {
		out[v.ID] = v.Status
	}
	return out
}

// rewriteServer points the agent's identity at a new server address, as an
// administrator would after moving the server.
func rewriteServer(t *testing.T, state, addr string) {
	t.Helper()
	p := filepath.Join(state, "identity.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["server"] = addr
	b, _ = json.Marshal(m)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
