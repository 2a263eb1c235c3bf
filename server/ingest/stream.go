package ingest

import (
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
)

// Error codes sent to agents (docs/protocol.md).
const (
	CodeUnsupportedVersion  = "unsupported_version"
	CodeCertificateRequired = "certificate_required"
	CodeDeviceRevoked       = "device_revoked"
	CodeDeviceUnknown       = "device_unknown"
	CodeTokenInvalid        = "token_invalid"
	CodeTokenUsed           = "token_used"
	CodeTokenExpired        = "token_expired"
	CodeRateLimited         = "rate_limited"
	CodeBadRequest          = "bad_request"
	CodeBadReport           = "bad_report"
	CodeSequenceReplayed    = "sequence_replayed"
	// CodeBadAttestation refuses a user attestation for good.
	CodeBadAttestation = "bad_attestation"
	// CodeInternal means the server could not do its part; retry later.
	CodeInternal = "internal_error"
	// CodeAgentSecretInvalid refuses a connection with the device
	// certificate whose Hello does not prove the device's agent secret:
	// it is not the agent (or the agent lost its secret; enroll again).
	CodeAgentSecretInvalid = "agent_secret_invalid"
)

// stream wraps one QUIC stream, or a TLS-over-TCP connection (tcp.go),
// with the helpers every handler needs.
type stream struct {
	s    *Server
	str  streamIO
	conn remoteAddrer
	log  *slog.Logger
}

func (st *stream) read(timeout time.Duration) (*pb.Envelope, error) {
	st.str.SetReadDeadline(time.Now().Add(timeout)) // wall clock: a network deadline
	return pb.ReadMsg(st.str)
}

func (st *stream) send(env *pb.Envelope) error {
	st.str.SetWriteDeadline(time.Now().Add(writeTimeout)) // wall clock: a network deadline
	return pb.WriteMsg(st.str, env)
}

func (st *stream) hello() error {
	return st.send(&pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: st.s.cfg.SoftwareVersion}}})
}

// refuse sends an Error and logs why. Refusals are expected events (bad
// tokens, replays) and logged at Info; only the code and the peer are
// logged, never the token or the report.
func (st *stream) refuse(code, msg string, seq uint64, attrs ...any) {
	st.log.Info("request refused", append([]any{"code", code, "detail", msg}, attrs...)...)
	if err := st.send(&pb.Envelope{Msg: &pb.Envelope_Error{Error: &pb.Error{Code: code, Message: msg, Sequence: seq}}}); err != nil {
		st.log.Debug("send error failed", "err", err)
	}
}

// abort ends a stream whose peer broke the framing: it says so when it
// still can, then cancels both directions.
func (st *stream) abort(err error) {
	st.log.Info("protocol error", "err", err)
	st.refuse(CodeBadRequest, "malformed frame", 0)
	st.str.CancelRead(codeProtocol)
	st.str.Close()
}

// quietEnd reports whether err is the peer closing or going away, which
// needs no answer.
func quietEnd(err error) bool {
	var se *quic.StreamError
	var ae *quic.ApplicationError
	var ie *quic.IdleTimeoutError
	return errors.Is(err, io.EOF) || errors.As(err, &se) || errors.As(err, &ae) || errors.As(err, &ie) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, quic.ErrServerClosed)
}

// handleStream serves one stream; helloWait bounds the wait for its first
// message.
func (s *Server) handleStream(conn remoteAddrer, str streamIO, peer *x509.Certificate, helloWait time.Duration) {
	st := &stream{s: s, str: str, conn: conn, log: s.log.With("remote", conn.RemoteAddr().String())}
	defer str.Close()
	env, err := st.read(helloWait)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || !quietEnd(err) {
			st.abort(err)
		}
		return
	}
	h := env.GetHello()
	if h == nil {
		st.refuse(CodeBadRequest, "the first message must be Hello", 0)
		return
	}
	if h.GetProtocolVersion() != pb.ProtocolVersion {
		st.refuse(CodeUnsupportedVersion, "this server speaks protocol version 1", 0, "version", h.GetProtocolVersion())
		return
	}
	if peer == nil {
		s.enroll(st, h.GetSoftwareVersion())
		return
	}
	s.control(st, peer, h)
}
