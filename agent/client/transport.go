package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// Transports, as logged and shown in errors.
const (
	TransportQUIC = "quic"
	TransportTCP  = "tcp"
)

// fallbackDelay is QUIC's head start: when UDP is blocked (some hotel and
// corporate networks), QUIC gets no answer at all, so TLS over TCP to the
// same port number is tried alongside after this delay, or at once when
// QUIC fails outright. The first to connect wins.
var fallbackDelay = 2 * time.Second

// tcpKeepAlive holds NAT bindings open on the TCP fallback, as QUIC's
// keep-alive does on UDP.
const tcpKeepAlive = 25 * time.Second

// link is one bidirectional stream of framed messages to the server: a
// QUIC stream, or a TLS connection over TCP carrying the same framing.
type link interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	SetDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// Abort unblocks a pending Read.
	Abort()
	// Close ends the stream and its connection.
	Close() error
	// Transport is TransportQUIC or TransportTCP.
	Transport() string
	// TLS is the connection's TLS state, for the agent proof.
	TLS() tls.ConnectionState
}

type quicLink struct {
	conn *quic.Conn
	str  *quic.Stream
}

func (l quicLink) Read(p []byte) (int, error)         { return l.str.Read(p) }
func (l quicLink) Write(p []byte) (int, error)        { return l.str.Write(p) }
func (l quicLink) SetDeadline(t time.Time) error      { return l.str.SetDeadline(t) }
func (l quicLink) SetWriteDeadline(t time.Time) error { return l.str.SetWriteDeadline(t) }
func (l quicLink) Abort()                             { l.str.CancelRead(0) }
func (l quicLink) Transport() string                  { return TransportQUIC }
func (l quicLink) TLS() tls.ConnectionState           { return l.conn.ConnectionState().TLS }
func (l quicLink) Close() error {
	_ = l.str.Close()
	return l.conn.CloseWithError(0, "")
}

type tcpLink struct{ *tls.Conn }

func (l tcpLink) Abort()                   { _ = l.Conn.SetReadDeadline(time.Unix(1, 0)) }
func (l tcpLink) Transport() string        { return TransportTCP }
func (l tcpLink) TLS() tls.ConnectionState { return l.Conn.ConnectionState() }

// dialQUIC connects over QUIC and opens the stream. quic-go binds an
// unconnected wildcard UDP socket, so when the laptop's address changes
// its packets leave from the new address on the same connection, and the
// server validates the new path (connection migration); nothing here pins
// a local address or connects the socket, which would defeat that.
func dialQUIC(ctx context.Context, addr string, tc *tls.Config) (link, error) {
	conn, err := quic.DialAddr(ctx, addr, tc, quicConfig())
	if err != nil {
		return nil, fmt.Errorf("quic: %w", err)
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		_ = conn.CloseWithError(0, "")
		return nil, fmt.Errorf("quic: open stream: %w", err)
	}
	return quicLink{conn: conn, str: str}, nil
}

// dialTCP connects with TLS over TCP to the same host and port number.
func dialTCP(ctx context.Context, addr string, tc *tls.Config) (link, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: handshakeTimeout, KeepAlive: tcpKeepAlive}, Config: tc}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	return tcpLink{c.(*tls.Conn)}, nil
}

type dialResult struct {
	l   link
	err error
}

// dialers are the transports in order of preference; tests replace them.
var dialers = []func(context.Context, string, *tls.Config) (link, error){dialQUIC, dialTCP}

// dial connects with the first transport that succeeds: QUIC first, TCP
// after fallbackDelay or once QUIC has failed. A transport that loses the
// race is closed. Both verify the server with the same TLS config.
func dial(ctx context.Context, addr string, tc *tls.Config) (link, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dialResult, len(dialers))
	started := 0
	start := func() {
		d := dialers[started]
		started++
		go func() {
			l, err := d(ctx, addr, tc.Clone())
			results <- dialResult{l, err}
		}()
	}
	start()
	timer := time.NewTimer(fallbackDelay)
	defer timer.Stop()
	var errs []error
	for done := 0; done < len(dialers); {
		select {
		case <-timer.C:
			if started < len(dialers) {
				start()
				timer.Reset(fallbackDelay)
			}
			continue
		case r := <-results:
			done++
			if r.err == nil {
				go closeLosers(results, started-done)
				return r.l, nil
			}
			errs = append(errs, r.err)
			if started < len(dialers) {
				start()
			}
		}
	}
	return nil, errors.Join(errs...)
}

// closeLosers closes connections that completed after the race was won.
func closeLosers(results <-chan dialResult, n int) {
	for range n {
		if r := <-results; r.err == nil {
			_ = r.l.Close()
		}
	}
}
