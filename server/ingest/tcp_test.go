package ingest

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// startTCP serves the fallback of e's server until the test ends.
func startTCP(t testing.TB, e *env) net.Addr {
	t.Helper()
	ln, err := e.srv.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeTCP(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve tcp: %v", err)
		}
	})
	return ln.Addr()
}

// tcpClient is one test agent's TLS-over-TCP connection.
type tcpClient struct {
	t *testing.T
	c *tls.Conn
}

func dialTCP(t *testing.T, e *env, addr net.Addr, cert *tls.Certificate, alpn string) (*tcpClient, error) {
	tc := &tls.Config{RootCAs: e.ca.Pool(), Time: clock.Now, ServerName: "localhost", NextProtos: []string{alpn}, MinVersion: tls.VersionTLS13}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr.String(), tc)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &tcpClient{t: t, c: c}, nil
}

func (c *tcpClient) roundTrip(envs ...*pb.Envelope) *pb.Envelope {
	c.t.Helper()
	for _, e := range envs {
		if err := pb.WriteMsg(c.c, e); err != nil {
			c.t.Fatal(err)
		}
	}
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	env, err := pb.ReadMsg(c.c)
	if err != nil {
		c.t.Fatal(err)
	}
	return env
}

func TestTCPFallback(t *testing.T) {
	e := start(t, "", nil)
	addr := startTCP(t, e)
	t.Run("the fallback listens on the QUIC port number", func(t *testing.T) {
		if got, want := addr.(*net.TCPAddr).Port, e.srv.Addr().(*net.UDPAddr).Port; got != want {
			t.Errorf("tcp port %d, quic port %d", got, want)
		}
	})
	d := e.enroll()
	t.Run("a device reports over TLS over TCP, and a retransmission is acked as a duplicate", func(t *testing.T) {
		c, err := dialTCP(t, e, addr, &d.cert, pb.ALPN)
		if err != nil {
			t.Fatal(err)
		}
		if h := c.roundTrip(d.helloOn(t, c.c.ConnectionState())); h.GetHello() == nil {
			t.Fatalf("answer %v, want Hello", h)
		}
		rep := wireReport(7, "laptop-tcp")
		got := c.roundTrip(rep)
		for got.GetCommand() != nil {
			got = c.roundTrip()
		}
		if got.GetAck().GetSequence() != 7 || got.GetAck().GetDuplicate() {
			t.Fatalf("answer %v, want Ack 7", got)
		}
		dup := c.roundTrip(rep)
		if dup.GetAck().GetSequence() != 7 || !dup.GetAck().GetDuplicate() {
			t.Fatalf("retransmission answer %v", dup)
		}
	})
	t.Run("enrollment works over TCP without a client certificate", func(t *testing.T) {
		c, err := dialTCP(t, e, addr, nil, pb.ALPN)
		if err != nil {
			t.Fatal(err)
		}
		_, csr := newCSR(t)
		if h := c.roundTrip(hello(), enrollRequest(e.token(time.Hour), csr)); h.GetHello() == nil {
			t.Fatalf("answer %v, want Hello", h)
		}
		if got := c.roundTrip(); got.GetEnrolled() == nil {
			t.Fatalf("answer %v, want Enrolled", got)
		}
	})
	t.Run("a client speaking another protocol is refused in the handshake", func(t *testing.T) {
		if _, err := dialTCP(t, e, addr, nil, "h2"); err == nil {
			t.Fatal("handshake with ALPN h2 succeeded")
		}
	})
}
