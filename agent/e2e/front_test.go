package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/internal/testserver"
)

const postgresDoc = "../../docs/postgresql.md"

// streamModule is Debian's libnginx-mod-stream.
const streamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

// TestEnrollAndReportThroughNginxStream puts the documented nginx stream
// block in front of two replicas (sharing one data directory and
// database) and enrolls and reports through its one address, over QUIC
// through the UDP proxy.
func TestEnrollAndReportThroughNginxStream(t *testing.T) {
	bin := ""
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			bin = path
			break
		}
	}
	if _, err := os.Stat(streamModule); bin == "" || err != nil {
		const hint = "nginx with the stream module is not installed: apt-get install nginx-light libnginx-mod-stream (.ci/run does)"
		if os.Getenv("CI") != "" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	doc, err := os.ReadFile(postgresDoc)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```nginx\n(stream \\{.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no ```nginx stream block", postgresDoc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	one := testserver.Start(t, ctx, testserver.Options{})
	two := testserver.Start(t, ctx, testserver.Options{DataDir: one.DataDir})
	front := freeAgentAddr(t)
	_, port, _ := strings.Cut(front, ":")
	block := string(m[1])
	for k, v := range map[string]string{"REPLICA1": one.QUICAddr, "REPLICA2": two.QUICAddr, "PORT": "127.0.0.1:" + port} {
		block = strings.ReplaceAll(block, "{{"+k+"}}", v)
	}
	if left := regexp.MustCompile(`\{\{[A-Z0-9_]+\}\}`).FindString(block); left != "" {
		t.Fatalf("placeholder %s is not substituted by the test", left)
	}
	startStreamNginx(t, ctx, bin, block)

	token := one.Cmd(t, "token", "create")
	dir := t.TempDir()
	h := snapshot(t, "linux-compliant")
	if _, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: dir, Server: front, Token: token, Host: h}); err != nil {
		t.Fatalf("enroll through nginx: %v", err)
	}
	r, err := runner.New(runner.Config{StateDir: dir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("report through nginx: %v", err)
	}
	if res.Ack == nil {
		t.Fatal("no ack through nginx")
	}
	// QUIC wins the agent's race unless UDP gets no answer, so a session
	// on QUIC shows the UDP proxy carried it.
	sd, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sd.LoadCredentials()
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.Dial(ctx, client.SessionConfig{Addr: front, Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret})
	if err != nil {
		t.Fatalf("connect through nginx: %v", err)
	}
	defer s.Close()
	if got := s.Transport(); got != client.TransportQUIC {
		t.Errorf("transport through nginx %q, want %q (the UDP proxy did not carry QUIC)", got, client.TransportQUIC)
	}
}

// startStreamNginx runs nginx with block as its stream context.
func startStreamNginx(t *testing.T, ctx context.Context, bin, block string) {
	t.Helper()
	prefix := t.TempDir()
	conf := fmt.Sprintf("load_module %s;\ndaemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log stderr notice;\nevents { worker_connections 64; }\n%s\n",
		streamModule, prefix, block)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", prefix, "-e", "stderr", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\nconfig:\n%s", err, out, conf)
	}
	var out strings.Builder
	stderr := &syncWriter{w: &out}
	cmd := exec.CommandContext(ctx, bin, "-p", prefix, "-e", "stderr", "-c", path)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("nginx output:\n%s", stderr.String())
		}
	})
	// nginx has bound its ports once it logs that it started workers.
	for !strings.Contains(stderr.String(), "start worker process") {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("nginx did not start: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
