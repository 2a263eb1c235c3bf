//go:build !windows

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// crashFor is how long agent and server are killed at random points.
const crashFor = 15 * time.Second

// build compiles a command of this module into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "github.com/postern-dev/postern/"+pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// freePort returns a port number free on loopback for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// waitListening waits for the server's TCP fallback on the QUIC port.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not listening: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proc is a started binary whose stderr is kept in a file.
type proc struct {
	cmd *exec.Cmd
	log *os.File
}

func spawn(t *testing.T, logPath, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr, cmd.Stdout = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &proc{cmd: cmd, log: f}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	p.log.Close()
}

func (p *proc) stop(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Error("process did not stop on SIGTERM")
		p.kill()
	}
	p.log.Close()
}

// sequences returns the sequence numbers of the agent's log lines with msg.
func sequences(t *testing.T, logPath, msg string) map[uint64]bool {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Msg      string `json:"msg"`
			Sequence uint64 `json:"sequence"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == msg {
			out[line.Sequence] = true
		}
	}
	return out
}

func TestKillNineLosesNothingAcknowledgedAndStoresNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and kills them for 15 s")
	}
	bin := t.TempDir()
	serverBin := build(t, bin, "server/cmd/postern-server")
	agentBin := build(t, bin, "agent/cmd/postern-agent")
	logs, data, state := t.TempDir(), t.TempDir(), t.TempDir()
	quic := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	https := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	snap, _ := filepath.Abs(filepath.Join("..", "..", "checks", "testdata", "snapshots", "linux-compliant"))
	serverLog, agentLog := filepath.Join(logs, "server.log"), filepath.Join(logs, "agent.log")
	// The first start creates the server; restarts after a crash must find
	// it whole, so they run without --init (which would start over).
	started := false
	startServer := func() *proc {
		args := []string{"serve", "--data", data, "--quic", quic, "--https", https}
		if !started {
			args = append(args, "--init")
		}
		started = true
		return spawn(t, serverLog, serverBin, args...)
	}
	startAgent := func() *proc {
		return spawn(t, agentLog, agentBin, "run", "--replay", snap, "--interval", "150ms", "--state", state)
	}

	srv := startServer()
	waitListening(t, quic)
	var token []byte
	for deadline := time.Now().Add(20 * time.Second); ; {
		out, err := exec.Command(serverBin, "token", "create", "--data", data).Output()
		if err == nil {
			token = bytes.TrimSpace(out)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token create: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	enroll := exec.Command(agentBin, "enroll", "--server", quic, "--token", "-", "--state", state)
	enroll.Stdin = bytes.NewReader(append(token, '\n'))
	for deadline := time.Now().Add(20 * time.Second); ; {
		out, err := enroll.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || strings.Contains(string(out), "token") {
			t.Fatalf("enroll: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
		enroll = exec.Command(agentBin, "enroll", "--server", quic, "--token", "-", "--state", state)
		enroll.Stdin = bytes.NewReader(append(token, '\n'))
	}

	agent := startAgent()
	kills := map[string]int{}
	for end := time.Now().Add(crashFor); time.Now().Before(end); {
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Millisecond)
		if rand.IntN(2) == 0 {
			agent.kill()
			kills["agent"]++
			agent = startAgent()
		} else {
			srv.kill()
			kills["server"]++
			srv = startServer()
		}
	}
	agent.kill()
	// Drain: one run --once delivers the spool in order, then its own report.
	drain := exec.Command(agentBin, "run", "--once", "--replay", snap, "--state", state, "--timeout", "30s")
	drainLog, _ := os.OpenFile(agentLog, os.O_WRONLY|os.O_APPEND, 0o600)
	drain.Stderr = drainLog
	if out, err := drain.Output(); err != nil {
		t.Fatalf("drain: %v\n%s", err, out)
	}
	drainLog.Close()
	srv.stop(t)
	t.Logf("kills: %v", kills)

	var id struct {
		DeviceID string `json:"device_id"`
	}
	b, err := os.ReadFile(filepath.Join(state, "identity.json"))
	if err != nil || json.Unmarshal(b, &id) != nil {
		t.Fatalf("identity: %v", err)
	}
	st, err := store.OpenSQLite(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	history, err := st.History(context.Background(), id.DeviceID, store.MaxHistoryPerDevice)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64]int{}
	for _, r := range history {
		stored[r.Sequence]++
	}
	acked := sequences(t, agentLog, "report acknowledged")
	spooled := sequences(t, agentLog, "check complete")
	t.Logf("%d reports spooled, %d acks logged, %d stored", len(spooled), len(acked), len(stored))
	if len(stored) < 10 || kills["agent"]+kills["server"] < 5 {
		t.Fatalf("too little happened to prove anything: %d stored, kills %v", len(stored), kills)
	}
	for seq, n := range stored {
		if n != 1 {
			t.Errorf("report %d stored %d times", seq, n)
		}
	}
	for seq := range acked {
		if stored[seq] == 0 {
			t.Errorf("report %d was acknowledged but is not stored", seq)
		}
	}
	for seq := range spooled {
		if stored[seq] == 0 {
			t.Errorf("report %d was spooled but never delivered", seq)
		}
	}
}
