package e2e

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/testserver"
)

// freeAgentAddr returns a loopback host:port free for both UDP and TCP.
func freeAgentAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		udp, err := net.ListenPacket("udp", tcp.Addr().String())
		tcp.Close()
		if err != nil {
			continue
		}
		udp.Close()
		return tcp.Addr().String()
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

// TestAgentFailsOverToAnotherReplica enrolls with the server at one
// address, which hands the agent its replica set; the server then moves
// to the other replica's address (the data stays, as replicas share a
// database). The agent's next report goes to that replica without anyone
// editing a file, and its log and status say so.
func TestAgentFailsOverToAnotherReplica(t *testing.T) {
	first, second := freeAgentAddr(t), freeAgentAddr(t)
	replicas := []string{first, second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := testserver.Start(t, ctx, testserver.Options{QUICAddr: first, Replicas: replicas})
	token := srv.Cmd(t, "token", "create")
	dir := t.TempDir()
	h := snapshot(t, "linux-compliant")
	if _, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: dir, Server: first, Token: token, Host: h}); err != nil {
		t.Fatal(err)
	}
	sd, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sd.LoadIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(id.ServerList(), " "); got != first+" "+second {
		t.Fatalf("replicas after enrollment %q, want %q", got, first+" "+second)
	}

	srv.Stop()
	testserver.Start(t, ctx, testserver.Options{DataDir: srv.DataDir, QUICAddr: second, Replicas: replicas})
	var logs strings.Builder
	r, err := runner.New(runner.Config{StateDir: dir, Host: h, Logger: jsonLoggerTo(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("report with the first replica gone: %v", err)
	}
	if res.Ack == nil {
		t.Fatal("no ack from the second replica")
	}
	if got := logs.String(); !strings.Contains(got, `"msg":"failed over to another server replica"`) {
		t.Errorf("the log does not say it failed over:\n%s", got)
	}
	st, err := sd.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if st.ConnectedServer != second || st.LastFailover == nil || st.LastFailover.From != first || st.LastFailover.To != second {
		t.Errorf("state: connected %q, failover %+v; want %s after failing over from %s", st.ConnectedServer, st.LastFailover, second, first)
	}
	var text strings.Builder
	s := output.NewStatus(&id, st, 0, checks.DefaultPolicy(), time.Now())
	s.WriteText(&text, false)
	if !strings.Contains(text.String(), "failed over:  from "+first+" to "+second) {
		t.Errorf("status does not show the failover:\n%s", text.String())
	}
}

// jsonLoggerTo logs JSON lines into b, safely from several goroutines.
func jsonLoggerTo(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewJSONHandler(&syncWriter{w: b}, nil))
}

// syncWriter lets the runner's goroutines log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
