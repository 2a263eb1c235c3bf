package client

import (
	"errors"
	"fmt"
	"strings"

	"github.com/quic-go/quic-go"
)

// alertBadCertificate is the TLS alert a server sends when it refuses the
// client's certificate; QUIC carries it as CRYPTO_ERROR 0x100 + alert.
const alertBadCertificate = 42

// certificateRefused wraps err with ErrCertificateRefused when it is the
// server's refusal of our certificate, over QUIC or TLS over TCP.
func certificateRefused(err error) error {
	if err == nil {
		return nil
	}
	var te *quic.TransportError
	if errors.As(err, &te) && te.Remote && te.ErrorCode == quic.TransportErrorCode(0x100+alertBadCertificate) ||
		strings.Contains(err.Error(), "remote error: tls: bad certificate") {
		return fmt.Errorf("%w: %w", ErrCertificateRefused, err)
	}
	return err
}

// Sentinel errors, compared with errors.Is.
var (
	// ErrPinMismatch: the server did not present a CA whose SHA-256 equals
	// the token's pin, or its certificate does not chain to that CA. The
	// connection may be intercepted; the token was not sent.
	ErrPinMismatch = errors.New("server certificate does not match the pinned CA")
	// ErrUntrustedServer: after enrollment, the server's certificate does
	// not chain to the stored CA.
	ErrUntrustedServer = errors.New("server certificate does not chain to the device CA")
	// ErrProtocol: the server broke the protocol (wrong message, bad
	// response content).
	ErrProtocol = errors.New("protocol violation by the server")
	// ErrClosed: the session was closed by the agent.
	ErrClosed = errors.New("session closed")
	// ErrCertificateRefused: the server refused the device certificate
	// during the TLS handshake (a bad_certificate alert), which it does
	// for a revoked or inactive device — and, rarely, when it cannot
	// look the device up.
	ErrCertificateRefused = errors.New("the server refused this device's certificate")
)

// Error codes the server sends (docs/protocol.md).
const (
	CodeUnsupportedVersion  = "unsupported_version"
	CodeTokenInvalid        = "token_invalid"
	CodeTokenUsed           = "token_used"
	CodeTokenExpired        = "token_expired"
	CodeRateLimited         = "rate_limited"
	CodeBadRequest          = "bad_request"
	CodeCertificateRequired = "certificate_required"
	CodeDeviceRevoked       = "device_revoked"
	CodeDeviceUnknown       = "device_unknown"
	CodeDeviceInactive      = "device_inactive"
	CodeSequenceReplayed    = "sequence_replayed"
	CodeBadReport           = "bad_report"
	// CodeBadAttestation: the server will never record this attestation.
	CodeBadAttestation = "bad_attestation"
	// CodeAgentSecretInvalid: the Hello did not prove the device's agent
	// secret (this agent lost its agent.secret, or it is not the agent).
	CodeAgentSecretInvalid = "agent_secret_invalid"
)

// ServerError is an Error message from the server.
type ServerError struct {
	Code    string
	Message string
	// Sequence is the refused report's sequence, when the error is about one.
	Sequence uint64
}

func (e *ServerError) Error() string {
	s := "server refused: " + e.Code
	if e.Sequence != 0 {
		s += fmt.Sprintf(" (report %d)", e.Sequence)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Permanent reports whether retrying with the same identity cannot help:
// the device was revoked or is unknown, or the server does not speak this
// protocol version.
func (e *ServerError) Permanent() bool {
	switch e.Code {
	case CodeDeviceRevoked, CodeDeviceInactive, CodeDeviceUnknown, CodeUnsupportedVersion, CodeCertificateRequired, CodeAgentSecretInvalid:
		return true
	}
	return false
}
