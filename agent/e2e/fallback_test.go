package e2e

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
)

// udpBlocked stands for a network that drops UDP: on one port number, a
// UDP socket that swallows every datagram, and a TCP listener forwarding
// to the server's TLS-over-TCP fallback.
type udpBlocked struct {
	addr string
	udp  net.PacketConn
	tcp  net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	used int // TCP connections forwarded
}

func blockUDP(t *testing.T, serverAddr string) *udpBlocked {
	t.Helper()
	var b udpBlocked
	for range 20 {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		udp, err := net.ListenPacket("udp", tcp.Addr().String())
		if err != nil {
			tcp.Close()
			continue // the UDP port number is taken; try another
		}
		b.tcp, b.udp, b.addr = tcp, udp, tcp.Addr().String()
		break
	}
	if b.tcp == nil {
		t.Fatal("no port free for both UDP and TCP")
	}
	b.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := b.udp.ReadFrom(buf); err != nil {
				return
			}
		}
	})
	b.wg.Go(func() {
		for {
			c, err := b.tcp.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.used++
			b.mu.Unlock()
			b.wg.Go(func() { forward(c, serverAddr) })
		}
	})
	t.Cleanup(func() { b.udp.Close(); b.tcp.Close(); b.wg.Wait() })
	return &b
}

func (b *udpBlocked) forwarded() int { b.mu.Lock(); defer b.mu.Unlock(); return b.used }

func forward(c net.Conn, to string) {
	defer c.Close()
	s, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
}

func TestReportsArriveOverTCPWhenUDPIsBlocked(t *testing.T) {
	srv := startServer(t)
	blocked := blockUDP(t, srv.QUICAddr) // the server's TCP fallback shares the QUIC port number
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := snapshot(t, "linux-compliant")

	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: blocked.addr, Token: token, Host: h})
	if err != nil {
		t.Fatalf("enroll with UDP blocked: %v", err)
	}
	r, err := runner.New(runner.Config{StateDir: state, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("report with UDP blocked: %v", err)
	}
	if res.Ack == nil {
		t.Fatal("no ack")
	}
	if !allowed(t, srv, key, id.DeviceID) {
		t.Error("the report did not reach the decision")
	}
	if blocked.forwarded() < 2 {
		t.Errorf("%d TCP connections, want enrollment and report over TCP", blocked.forwarded())
	}
}
