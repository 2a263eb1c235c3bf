package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/version"
	pb "github.com/postern-dev/postern/proto"
)

// commandBuffer bounds the commands queued for the runner. The server
// sends few; beyond this, new ones are dropped with a warning rather than
// stalling the acks behind them.
const commandBuffer = 32

// SessionConfig says where and as whom to report.
type SessionConfig struct {
	// Addr is the server's QUIC address, host:port.
	Addr string
	// Certificate is the device certificate and key.
	Certificate tls.Certificate
	// CA is the device CA saved at enrollment; the server must chain to it.
	CA *x509.Certificate
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock for certificate validity; clock.Now when nil.
	Now func() time.Time
	// AgentSecret is the device's agent secret from enrollment, proved
	// in the Hello (pb.AgentProof); nil for a device enrolled before
	// agent secrets, whose server still accepts it without.
	AgentSecret []byte
}

// Session is an open control stream with the device certificate. Send and
// Renew may be called from one goroutine at a time each; they are
// serialised internally. Commands from the server arrive on Commands.
type Session struct {
	l        link
	log      *slog.Logger
	reqMu    sync.Mutex // one request (report or renewal) in flight
	writeMu  sync.Mutex
	replies  chan *pb.Envelope
	commands chan *pb.Command
	done     chan struct{}
	// servers is the replica list of the server's Hello.
	servers []string
	// gatewayURL is the Hello's gateway URL; nil when the server sent
	// none.
	gatewayURL *string

	errMu   sync.Mutex
	err     error
	lastErr *ServerError // last Error without a sequence, for Err
}

// Dial connects with the device certificate and exchanges Hello. A server
// that refuses the device (revoked, unknown) returns a *ServerError.
func Dial(ctx context.Context, cfg SessionConfig) (*Session, error) {
	if cfg.CA == nil || len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("dial: device certificate and CA are required")
	}
	now := cfg.Now
	if now == nil {
		now = clock.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tc := baseTLS(cfg.Addr, verifyStored(cfg.CA, now))
	tc.Certificates = []tls.Certificate{cfg.Certificate}
	l, err := dial(ctx, cfg.Addr, tc)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Addr, certificateRefused(err))
	}
	hello := &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: version.Version}
	if cfg.AgentSecret != nil {
		if hello.AgentProof, err = pb.AgentProof(cfg.AgentSecret, l.TLS()); err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("dial %s: %w", cfg.Addr, err)
		}
	}
	s, err := handshake(ctx, l, hello, log)
	if err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("dial %s over %s: %w", cfg.Addr, l.Transport(), certificateRefused(err))
	}
	return s, nil
}

func handshake(ctx context.Context, str link, hello *pb.Hello, log *slog.Logger) (*Session, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = str.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, str.Abort)
	err := writeHello(str, hello)
	var h *pb.Hello
	if err == nil {
		h, err = readHello(str)
	}
	stopped := stop()
	if err != nil {
		if !stopped || ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, err
	}
	_ = str.SetDeadline(time.Time{})
	s := &Session{
		l: str, log: log, servers: h.GetServers(), gatewayURL: h.GatewayUrl,
		replies:  make(chan *pb.Envelope, 8),
		commands: make(chan *pb.Command, commandBuffer),
		done:     make(chan struct{}),
	}
	go s.readLoop()
	return s, nil
}

// Servers returns the replicas the server named in its Hello (unchecked;
// state.ValidServers checks them), empty when it has none configured.
func (s *Session) Servers() []string { return s.servers }

// GatewayURL returns the gateway URL the server named in its Hello
// (unchecked; empty when it has none configured), and false from a
// server that sends none (older than the field).
func (s *Session) GatewayURL() (string, bool) {
	if s.gatewayURL == nil {
		return "", false
	}
	return *s.gatewayURL, true
}

// Transport says how the session reached the server: TransportQUIC, or
// TransportTCP when UDP was blocked.
func (s *Session) Transport() string { return s.l.Transport() }

// Commands delivers the server's commands. It is never closed; watch Done.
func (s *Session) Commands() <-chan *pb.Command { return s.commands }

// Done is closed when the session has ended; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended, or nil while it is open.
func (s *Session) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Close ends the session.
func (s *Session) Close() error {
	s.fail(ErrClosed)
	return s.l.Close()
}

func (s *Session) fail(err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err != nil {
		return
	}
	if s.lastErr != nil && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w (after: %v)", s.lastErr, err)
	}
	s.err = err
	close(s.done)
}

func (s *Session) readLoop() {
	for {
		env, err := pb.ReadMsg(s.l)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("server closed the control stream")
			}
			s.fail(fmt.Errorf("read: %w", err))
			return
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_Command:
			select {
			case s.commands <- m.Command:
			default:
				s.log.Warn("server command dropped", "reason", "queue full")
			}
			continue
		case *pb.Envelope_Error:
			if m.Error.GetSequence() == 0 {
				se := serverError(m.Error)
				s.errMu.Lock()
				s.lastErr = se
				s.errMu.Unlock()
			}
		case *pb.Envelope_Ack, *pb.Envelope_Renewed, *pb.Envelope_Attestation, *pb.Envelope_EnrollChallenge:
		default:
			s.fail(fmt.Errorf("unexpected %T on the control stream: %w", env.Msg, ErrProtocol))
			_ = s.l.Close()
			return
		}
		select {
		case s.replies <- env:
		case <-s.done:
			return
		}
	}
}

func (s *Session) write(ctx context.Context, env *pb.Envelope) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.l.SetWriteDeadline(dl)
		defer s.l.SetWriteDeadline(time.Time{})
	}
	return pb.WriteMsg(s.l, env)
}

// Send writes one report and waits for the server's Ack of its sequence
// (returned, with Duplicate set for a retransmission) or its Error (a
// *ServerError). Acks for other sequences, left over from an earlier
// attempt, are skipped.
func (s *Session) Send(ctx context.Context, r *pb.Report) (*pb.Ack, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := s.write(ctx, &pb.Envelope{Msg: &pb.Envelope_Report{Report: r}}); err != nil {
		return nil, s.endedOr(fmt.Errorf("send report %d: %w", r.GetSequence(), err))
	}
	for {
		env, err := s.reply(ctx)
		if err != nil {
			return nil, fmt.Errorf("report %d: %w", r.GetSequence(), err)
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_Ack:
			if m.Ack.GetSequence() == r.GetSequence() {
				return m.Ack, nil
			}
			s.log.Debug("stale ack skipped", "sequence", m.Ack.GetSequence(), "waiting_for", r.GetSequence())
		case *pb.Envelope_Error:
			if seq := m.Error.GetSequence(); seq == 0 || seq == r.GetSequence() {
				return nil, serverError(m.Error)
			}
		}
	}
}

// Renew sends a CSR (DER) over the authenticated stream and returns the
// renewed certificate's DER. The caller verifies it before saving.
func (s *Session) Renew(ctx context.Context, csrDER []byte) ([]byte, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := s.write(ctx, &pb.Envelope{Msg: &pb.Envelope_Renew{Renew: &pb.RenewRequest{CsrDer: csrDER}}}); err != nil {
		return nil, s.endedOr(fmt.Errorf("send renewal: %w", err))
	}
	for {
		env, err := s.reply(ctx)
		if err != nil {
			return nil, fmt.Errorf("renewal: %w", err)
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_Renewed:
			return m.Renewed.GetCertificateDer(), nil
		case *pb.Envelope_Error:
			if m.Error.GetSequence() == 0 {
				return nil, serverError(m.Error)
			}
		}
	}
}

// RenewAttested renews the certificate of a TPM key and proves again, as
// at enrollment, that the key is in the TPM: the prover's EK and fresh
// AK go with the request, it answers the server's challenge by
// certifying the existing key, and the renewed certificate's DER comes
// back. The caller verifies it before saving.
func (s *Session) RenewAttested(ctx context.Context, p Prover) ([]byte, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	begin, err := p.Begin()
	if err != nil {
		return nil, fmt.Errorf("renewal: %w", err)
	}
	if err := s.write(ctx, &pb.Envelope{Msg: &pb.Envelope_Renew{Renew: &pb.RenewRequest{Tpm: begin}}}); err != nil {
		return nil, s.endedOr(fmt.Errorf("send renewal: %w", err))
	}
	proved := false
	for {
		env, err := s.reply(ctx)
		if err != nil {
			return nil, fmt.Errorf("renewal: %w", err)
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_EnrollChallenge:
			ch := m.EnrollChallenge
			if proved {
				return nil, fmt.Errorf("renewal: a second TPM challenge: %w", ErrProtocol)
			}
			if n := len(ch.GetNonce()); n == 0 || n > maxNonce || len(ch.GetCredential()) > maxCredential || len(ch.GetEncryptedSecret()) > maxCredential {
				return nil, fmt.Errorf("renewal: malformed TPM challenge: %w", ErrProtocol)
			}
			proof, err := p.Prove(ch)
			if err != nil {
				return nil, fmt.Errorf("renewal: %w", err)
			}
			proved = true
			if err := s.write(ctx, &pb.Envelope{Msg: &pb.Envelope_EnrollProof{EnrollProof: proof}}); err != nil {
				return nil, s.endedOr(fmt.Errorf("send renewal proof: %w", err))
			}
		case *pb.Envelope_Renewed:
			if !proved {
				return nil, fmt.Errorf("renewal: a certificate before the TPM challenge: %w", ErrProtocol)
			}
			return m.Renewed.GetCertificateDer(), nil
		case *pb.Envelope_Error:
			if m.Error.GetSequence() == 0 {
				return nil, serverError(m.Error)
			}
		}
	}
}

// Attest sends a user attestation and waits for the server to echo it
// back, which means it is recorded. A refusal is a *ServerError (code
// CodeBadAttestation when the server will never take it).
func (s *Session) Attest(ctx context.Context, a *pb.Attestation) error {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := s.write(ctx, &pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: a}}); err != nil {
		return s.endedOr(fmt.Errorf("send attestation: %w", err))
	}
	for {
		env, err := s.reply(ctx)
		if err != nil {
			return fmt.Errorf("attestation: %w", err)
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_Attestation:
			if proto.Equal(m.Attestation, a) {
				return nil
			}
			s.log.Debug("stale attestation echo skipped")
		case *pb.Envelope_Error:
			if m.Error.GetSequence() == 0 {
				return serverError(m.Error)
			}
		}
	}
}

func (s *Session) reply(ctx context.Context) (*pb.Envelope, error) {
	select {
	case env := <-s.replies:
		return env, nil
	case <-s.done:
		// A reply may have been queued just before the stream ended.
		select {
		case env := <-s.replies:
			return env, nil
		default:
		}
		return nil, s.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Session) endedOr(err error) error {
	select {
	case <-s.done:
		return s.Err()
	default:
		return err
	}
}
