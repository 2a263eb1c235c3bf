package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
)

// The TLS-over-TCP fallback serves agents on networks that block UDP: the
// same port number over TCP, the same TLS configuration (TLS 1.3, ALPN,
// device CA, client certificate if given) and the same framing. Each TCP
// connection carries exactly one stream, handled as a QUIC stream is.

// tcpHandshakeTimeout bounds the TLS handshake of a fallback connection.
const tcpHandshakeTimeout = 10 * time.Second

// tcpKeepAlive detects agents that vanished without closing, as QUIC's
// idle timeout does.
const tcpKeepAlive = 30 * time.Second

// streamIO is what a handler needs of a stream; *quic.Stream and
// tcpStream implement it.
type streamIO interface {
	io.Reader
	io.Writer
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	CancelRead(code quic.StreamErrorCode)
	Close() error
}

// remoteAddrer names the peer of a stream, for logs and rate limits.
type remoteAddrer interface {
	RemoteAddr() net.Addr
}

var (
	_ streamIO     = (*quic.Stream)(nil)
	_ streamIO     = tcpStream{}
	_ remoteAddrer = (*quic.Conn)(nil)
)

// tcpStream is a TLS connection used as a stream. Cancelling the read
// side of a one-stream connection ends the connection.
type tcpStream struct{ *tls.Conn }

func (c tcpStream) CancelRead(quic.StreamErrorCode) { _ = c.Conn.Close() }

// ListenTCP binds the TLS-over-TCP fallback to the QUIC listener's IP and
// port number.
func (s *Server) ListenTCP() (net.Listener, error) {
	ua, ok := s.udp.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, errors.New("listen tcp fallback: quic address is not UDP")
	}
	lc := net.ListenConfig{KeepAlive: tcpKeepAlive}
	addr := (&net.TCPAddr{IP: ua.IP, Port: ua.Port, Zone: ua.Zone}).String()
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen tcp fallback: %w", err)
	}
	return ln, nil
}

// ServeTCP accepts fallback connections on ln until ctx ends, then closes
// ln and every connection and returns once their goroutines have ended.
// Connections share the flood limits (admit.go) with QUIC's.
func (s *Server) ServeTCP(ctx context.Context, ln net.Listener) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	tlsConf := s.tlsConfig()
	for {
		c, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept tcp fallback: %w", err)
		}
		t, err := s.admit.begin(c.RemoteAddr())
		if err != nil {
			c.Close()
			continue
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			t.release()
			c.Close()
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
				t.release()
			}()
			s.handleTCP(tls.Server(c, tlsConf), t)
		})
	}
}

// handleTCP completes the TLS handshake and serves the connection's one
// stream.
func (s *Server) handleTCP(tc *tls.Conn, t *ticket) {
	ctx, cancel := context.WithTimeout(context.Background(), tcpHandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		s.log.Debug("tcp fallback handshake failed", "remote", tc.RemoteAddr().String(), "err", err)
		return
	}
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != pb.ALPN {
		return
	}
	var peer *x509.Certificate
	if len(cs.PeerCertificates) > 0 {
		peer = cs.PeerCertificates[0]
	}
	if !t.established(peer != nil) {
		return
	}
	if peer == nil {
		// As on QUIC: an unauthenticated connection only enrolls.
		lifetime := time.AfterFunc(enrollConnLifetime, func() { tc.Close() })
		defer lifetime.Stop()
	}
	// The connection's one stream starts with the first message, so the
	// short wait for a first stream bounds it.
	s.handleStream(tc, tcpStream{tc}, peer, s.cfg.FirstStreamTimeout)
}
