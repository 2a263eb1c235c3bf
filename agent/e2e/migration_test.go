package e2e

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// natRelay is a NAT between the agent and the server on loopback: the
// agent sends to addr, and each agent address gets its own outside socket
// toward the server, as a home router's binding. Rebind replaces every
// outside socket with a new one (a new source port), as a NAT that lost
// its bindings or a laptop that moved to another network would.
type natRelay struct {
	front  net.PacketConn
	server *net.UDPAddr
	wg     sync.WaitGroup

	mu       sync.Mutex
	bindings map[string]*binding
	initials int // QUIC Initial packets from agents; every new handshake sends some
	closed   bool
}

// binding is one agent address's outside socket and what came back on it.
type binding struct {
	agent   net.Addr
	back    net.PacketConn
	replies int // datagrams from the server on back
}

func startNATRelay(t *testing.T, serverAddr string) *natRelay {
	t.Helper()
	server, err := net.ResolveUDPAddr("udp", serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	front, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &natRelay{front: front, server: server, bindings: map[string]*binding{}}
	r.wg.Go(r.agentToServer)
	t.Cleanup(r.close)
	return r
}

func (r *natRelay) addr() string { return r.front.LocalAddr().String() }

// isInitial reports whether a datagram starts with a QUIC v1 Initial
// packet: long header form, packet type 0.
func isInitial(b []byte) bool { return len(b) > 0 && b[0]&0x80 != 0 && b[0]&0x30 == 0 }

func (r *natRelay) agentToServer() {
	buf := make([]byte, 65535)
	for {
		n, from, err := r.front.ReadFrom(buf)
		if err != nil {
			return
		}
		b, err := r.bindingFor(from, isInitial(buf[:n]))
		if err != nil {
			return
		}
		_, _ = b.back.WriteTo(buf[:n], r.server)
	}
}

func (r *natRelay) bindingFor(agent net.Addr, initial bool) (*binding, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if initial {
		r.initials++
	}
	if b, ok := r.bindings[agent.String()]; ok {
		return b, nil
	}
	return r.bindLocked(agent)
}

// bindLocked opens a new outside socket for agent and relays the
// server's datagrams from it back to agent until it is closed.
func (r *natRelay) bindLocked(agent net.Addr) (*binding, error) {
	if r.closed {
		return nil, net.ErrClosed
	}
	back, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &binding{agent: agent, back: back}
	r.bindings[agent.String()] = b
	r.wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := back.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			b.replies++
			r.mu.Unlock()
			_, _ = r.front.WriteTo(buf[:n], agent)
		}
	})
	return b, nil
}

// rebind gives every agent a new outside socket and closes the old one,
// so nothing reaches the agent through its old source port any more. It
// returns the old and new outside addresses of the one binding there
// must be.
func (r *natRelay) rebind(t *testing.T) (old, cur net.Addr) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bindings) != 1 {
		t.Fatalf("%d NAT bindings, want the session's only", len(r.bindings))
	}
	for _, b := range r.bindings {
		old = b.back.LocalAddr()
		b.back.Close()
		nb, err := r.bindLocked(b.agent)
		if err != nil {
			t.Fatal(err)
		}
		cur = nb.back.LocalAddr()
	}
	return old, cur
}

// stats returns the Initial packets seen, and the server's datagrams on
// the outside socket bound to local.
func (r *natRelay) stats(local net.Addr) (initials, replies int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bindings {
		if local != nil && b.back.LocalAddr().String() == local.String() {
			replies = b.replies
		}
	}
	return r.initials, replies
}

func (r *natRelay) close() {
	r.mu.Lock()
	r.closed = true
	for _, b := range r.bindings {
		b.back.Close()
	}
	r.mu.Unlock()
	r.front.Close()
	r.wg.Wait()
}

// sendLimit bounds one report's round trip; a connection that did not
// migrate would hang until it.
const sendLimit = 15 * time.Second

// report collects h into a wire report with the given sequence.
func report(ctx context.Context, h host.Host, seq uint64) *pb.Report {
	dev := checks.Device{Hostname: "laptop", OS: h.GOOS(), Arch: "amd64"}
	return checks.ToWire(checks.Collect(ctx, h, dev, clock.Now()), seq)
}

func TestSessionSurvivesNATRebindingMidConnection(t *testing.T) {
	srv := startServer(t)
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: dir, Server: srv.QUICAddr, Token: token,
		Host: snapshot(t, "linux-compliant")})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sd.LoadCredentials()
	if err != nil {
		t.Fatal(err)
	}

	nat := startNATRelay(t, srv.QUICAddr)
	s, err := client.Dial(ctx, client.SessionConfig{Addr: nat.addr(), Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Transport() != client.TransportQUIC {
		t.Fatalf("session over %s, want quic through the NAT", s.Transport())
	}
	send := func(t *testing.T, h host.Host, seq uint64) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, sendLimit)
		defer cancel()
		ack, err := s.Send(sctx, report(sctx, h, seq))
		if err != nil {
			t.Fatalf("report %d: %v", seq, err)
		}
		if ack.GetSequence() != seq || ack.GetDuplicate() {
			t.Fatalf("ack %d (duplicate %v), want a new ack of %d", ack.GetSequence(), ack.GetDuplicate(), seq)
		}
	}

	send(t, snapshot(t, "linux-compliant"), 1)
	if !allowed(t, srv, key, id.DeviceID) {
		t.Fatal("compliant device denied before the rebinding")
	}
	handshakes, _ := nat.stats(nil)

	old, cur := nat.rebind(t)
	t.Logf("NAT rebinding: server now sees the agent at %s instead of %s", cur, old)

	migrated := t.Run("a report after the rebinding is acked on the same connection", func(t *testing.T) {
		send(t, snapshot(t, "linux-noncompliant"), 2)
		select {
		case <-s.Done():
			t.Fatalf("session ended: %v", s.Err())
		default:
		}
		initials, replies := nat.stats(cur)
		if initials != handshakes {
			t.Errorf("%d QUIC Initial packets after the rebinding, want %d: the agent reconnected", initials, handshakes)
		}
		if replies == 0 {
			t.Error("no datagram from the server reached the new NAT port")
		}
	})
	if !migrated {
		t.FailNow()
	}
	t.Run("the decision reflects the report sent after the rebinding", func(t *testing.T) {
		if allowed(t, srv, key, id.DeviceID) {
			t.Error("non-compliant report after the rebinding did not deny the device")
		}
	})
	t.Run("the migrated connection keeps carrying reports", func(t *testing.T) {
		send(t, snapshot(t, "linux-compliant"), 3)
		if !allowed(t, srv, key, id.DeviceID) {
			t.Error("compliant report on the migrated connection did not allow the device")
		}
	})
}
