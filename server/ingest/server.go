package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/keyattest"
	"github.com/postern-dev/postern/server/store"
)

// Defaults for Config's zero values.
const (
	DefaultMaxConns          = 10_000
	DefaultEnrollFailures    = 5
	DefaultEnrollFailureTick = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	// helloTimeout bounds the wait for the first message of a stream.
	helloTimeout = 10 * time.Second
	// enrollTimeout bounds the wait for an EnrollRequest after Hello.
	enrollTimeout = 30 * time.Second
	// controlIdleTimeout bounds the wait between two messages on a control
	// stream; agents report far more often than this.
	controlIdleTimeout = time.Hour
	// writeTimeout bounds every write to a stream.
	writeTimeout = 10 * time.Second
	// storeTimeout bounds every store operation made for an agent.
	storeTimeout = 15 * time.Second
	// maxStreamsPerConn bounds concurrently open streams per connection.
	maxStreamsPerConn = 4
	// renewBefore is how long before expiry a device is asked to renew.
	renewBefore = 30 * 24 * time.Hour
)

// Config is what the ingest server needs. CA, Cert, Store and Policy are
// required.
type Config struct {
	// Addr is the UDP address to listen on, e.g. ":4433" or "127.0.0.1:0".
	Addr  string
	CA    *ca.CA
	Cert  tls.Certificate
	Store store.Store
	// Policy is used to track when each control first failed.
	Policy *checks.Policy
	// PolicyYAML, when set, is pushed to every agent that connects.
	PolicyYAML []byte
	// PolicyFor, when set, returns the policy and the agent's policy YAML
	// for a device's organization (its profile); it overrides Policy and
	// PolicyYAML, and is called for every report so that reloads apply.
	PolicyFor func(org string) (*checks.Policy, []byte)
	// OnReport, when set, is called after a new report is committed, so
	// that the decision engine can publish a change within seconds.
	OnReport func(deviceID string)
	// Evaluate, when set, evaluates a report under its organization's
	// profile (decision.Engine.Evaluate) instead of PolicyFor's policy,
	// and returns what Decision needs to reuse those verdicts.
	Evaluate func(org string, r *checks.Report, now time.Time) (*checks.Policy, decision.Evaluated)
	// Decision, when set, is the device's decision now
	// (decision.Engine.AfterReport); every ack carries it, so that the
	// agent shows the server's answer. ev is what Evaluate returned, for
	// the report just stored (zero for a duplicate).
	Decision func(ctx context.Context, deviceID string, ev decision.Evaluated) (decision.Decision, error)
	// OnAttestation records a validated user attestation (at enrollment
	// or on the control stream); the agent is told it is recorded only
	// when it returns nil. Without it, attestations are refused with
	// internal_error.
	OnAttestation func(ctx context.Context, deviceID string, a *pb.Attestation) error
	// Audit, when set, records enrollments and certificate renewals.
	Audit  *audit.Log
	Logger *slog.Logger
	// Now is the clock for certificates, token expiry and report times.
	Now func() time.Time
	// GatewayURL is sent to agents at enrollment and in the Hello of
	// every control stream (see serve.Config.GatewayURL); empty when none
	// is configured.
	GatewayURL string
	// Servers are the QUIC addresses of every replica, sent to agents at
	// enrollment and in every Hello so that they can fail over.
	Servers []string
	// HoldEnrollments makes every new device pending until an
	// administrator approves it (server configuration
	// enrollment.approve: manual).
	HoldEnrollments bool
	// SoftwareVersion is sent in the server's Hello.
	SoftwareVersion string
	// MaxConns bounds concurrent connections (DefaultMaxConns if zero).
	MaxConns int
	// EnrollFailures is how many failed enrollments a source address may
	// make in a burst, one more each EnrollFailureTick.
	EnrollFailures    int
	EnrollFailureTick time.Duration
	// IdleTimeout closes a connection without traffic (agents send QUIC
	// keep-alives); DefaultIdleTimeout if zero.
	IdleTimeout time.Duration
	// Flood limits (admit.go), QUIC and TCP together; the defaults if
	// zero. MaxConns bounds devices that presented a certificate;
	// unauthenticated (enrollment) connections have their own pool.
	MaxConnsPerSource       int
	MaxHandshakesPerSource  int
	MaxEnrollConns          int
	MaxEnrollConnsPerSource int
	// FirstStreamTimeout bounds the wait between the handshake and the
	// first stream (QUIC) or first message (TCP); 5 s if zero.
	FirstStreamTimeout time.Duration
	// KeyAttestation checks TPM-attested enrollments; nil trusts no TPM
	// manufacturer: TPM keys are still checked, and recorded as software.
	KeyAttestation *keyattest.Verifier
}

// ErrNotConnected is returned by Recheck for a device without a live
// control stream.
var ErrNotConnected = errors.New("device not connected")

// Server is a running ingest endpoint.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	udp     *net.UDPConn
	tr      *quic.Transport
	ln      *quic.Listener
	limiter *failLimiter
	admit   *admission
	live    registry
	// keyVerifier is cfg.KeyAttestation, or one trusting no EK CA.
	keyVerifier *keyattest.Verifier

	mu     sync.Mutex
	conns  map[*quic.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen binds the UDP address and prepares the server; call Serve to
// accept connections.
func Listen(cfg Config) (*Server, error) {
	if cfg.CA == nil || cfg.Store == nil || cfg.Policy == nil || len(cfg.Cert.Certificate) == 0 {
		return nil, errors.New("ingest: CA, Cert, Store and Policy are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.EnrollFailures <= 0 {
		cfg.EnrollFailures = DefaultEnrollFailures
	}
	if cfg.EnrollFailureTick <= 0 {
		cfg.EnrollFailureTick = DefaultEnrollFailureTick
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.FirstStreamTimeout <= 0 {
		cfg.FirstStreamTimeout = defaultFirstStreamTimeout
	}
	lim := limits{conns: cfg.MaxConns,
		perSource:           orDefault(cfg.MaxConnsPerSource, DefaultMaxConnsPerSource),
		handshakesPerSource: orDefault(cfg.MaxHandshakesPerSource, DefaultMaxHandshakesPerSource),
		enroll:              orDefault(cfg.MaxEnrollConns, DefaultMaxEnrollConns),
		enrollPerSource:     orDefault(cfg.MaxEnrollConnsPerSource, DefaultMaxEnrollConnsPerSource),
	}
	kv := cfg.KeyAttestation
	if kv == nil {
		var err error
		if kv, err = keyattest.NewVerifier(nil); err != nil {
			return nil, err
		}
	}
	addr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("resolve quic address: %w", err)
	}
	udp, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen quic: %w", err)
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, now: cfg.Now, udp: udp,
		limiter: newFailLimiter(cfg.EnrollFailures, cfg.EnrollFailureTick),
		admit:   newAdmission(lim, cfg.Logger),
		live:    registry{m: map[string][]*controlStream{}, revoked: map[string]struct{}{}},
		conns:   map[*quic.Conn]struct{}{},

		keyVerifier: kv,
	}
	s.tr = &quic.Transport{Conn: udp,
		ConnContext: func(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
			return s.quicConnContext(ctx, info.RemoteAddr)
		},
		VerifySourceAddress: s.admit.needsRetry,
	}
	ln, err := s.tr.Listen(s.tlsConfig(), s.quicConfig())
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("listen quic: %w", err)
	}
	s.ln = ln
	return s, nil
}

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.cfg.Cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    s.cfg.CA.Pool(),
		NextProtos:   []string{pb.ALPN},
		Time:         s.now,
		// Refuse revoked and inactive devices before any stream opens.
		VerifyConnection: s.verifyConnection,
	}
}

func (s *Server) quicConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:       10 * time.Second,
		MaxIdleTimeout:             s.cfg.IdleTimeout,
		MaxIncomingStreams:         maxStreamsPerConn,
		MaxIncomingUniStreams:      -1,
		MaxStreamReceiveWindow:     2 * pb.MaxFrameSize,
		MaxConnectionReceiveWindow: 4 * pb.MaxFrameSize,
	}
}

// Addr returns the bound UDP address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until ctx is done or Close is called; it then
// closes every connection and returns once their goroutines have ended.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	for {
		conn, err := s.ln.Accept(ctx)
		if err != nil {
			s.Close()
			s.wg.Wait()
			if ctx.Err() != nil || errors.Is(err, quic.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept quic: %w", err)
		}
		t := ticketOf(conn.Context())
		authenticated := len(conn.ConnectionState().TLS.PeerCertificates) > 0
		if t == nil || !t.established(authenticated) || !s.track(conn) {
			conn.CloseWithError(codeBusy, "server busy")
			continue
		}
		go s.handleConn(conn, authenticated)
	}
}

// Application error codes on connection close.
const (
	codeNormal quic.ApplicationErrorCode = 0
	codeBusy   quic.ApplicationErrorCode = 1
	// codeRevoked closes the connection of a device revoked while connected.
	codeRevoked quic.ApplicationErrorCode = 2
	// codeIdle closes a connection that opened no stream in time, or an
	// unauthenticated one past its lifetime.
	codeIdle quic.ApplicationErrorCode = 3
	// codeProtocol cancels a stream whose peer broke the framing.
	codeProtocol quic.StreamErrorCode = 1
)

func (s *Server) track(conn *quic.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(conn *quic.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	s.wg.Done()
}

// Close stops accepting, closes every connection and the socket. It does
// not wait for connection goroutines; Serve does.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.admit.close()
	conns := make([]*quic.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.CloseWithError(codeNormal, "server shutting down")
	}
	return errors.Join(s.ln.Close(), s.tr.Close(), s.udp.Close())
}

func (s *Server) handleConn(conn *quic.Conn, authenticated bool) {
	defer s.untrack(conn)
	var peer *x509.Certificate
	if certs := conn.ConnectionState().TLS.PeerCertificates; len(certs) > 0 {
		peer = certs[0]
	}
	if !authenticated {
		// An unauthenticated connection can only enroll, which takes one
		// stream and seconds; it does not get to linger on keep-alives.
		lifetime := time.AfterFunc(enrollConnLifetime, func() {
			conn.CloseWithError(codeIdle, "enrollment took too long")
		})
		defer lifetime.Stop()
	}
	var streams sync.WaitGroup
	defer streams.Wait()
	for first := true; ; first = false {
		ctx, cancel := conn.Context(), context.CancelFunc(func() {})
		if first {
			ctx, cancel = context.WithTimeout(ctx, s.cfg.FirstStreamTimeout)
		}
		str, err := conn.AcceptStream(ctx)
		cancel()
		if err != nil {
			if first && errors.Is(err, context.DeadlineExceeded) {
				conn.CloseWithError(codeIdle, "no stream opened")
			}
			return
		}
		streams.Add(1)
		go func() {
			defer streams.Done()
			s.handleStream(conn, str, peer, helloTimeout)
		}()
	}
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
