package client

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/version"
	pb "github.com/postern-dev/postern/proto"
)

// maxDeviceIDLen bounds the device ID the server assigns (a UUID).
const maxDeviceIDLen = 64

// Enrolled is the identity the server issued, already verified: the CA is
// the pinned one, the certificate chains to it for client authentication,
// is for the key in the CSR and names the device ID.
type Enrolled struct {
	DeviceID string
	CertDER  []byte
	CADER    []byte
	// Servers are the server's replicas (Hello.servers), unchecked.
	Servers []string
	// GatewayURL is the EHR gateway's origin from the server's
	// configuration (pb.ValidateGatewayURL), empty when it has none.
	GatewayURL string
	// KeyKind is what the server recorded for the key ("hardware",
	// "software"); empty from a server that does not say.
	KeyKind string
	// AgentSecret is the device's agent secret, to keep readable by
	// root/SYSTEM only; nil from a server before agent secrets.
	AgentSecret []byte
}

// Enroll connects to addr without a client certificate, verifies the
// server against the CA pinned in token, and exchanges the token and the
// CSR (DER) for the device's identity. A server whose CA does not match
// the pin gets ErrPinMismatch and never sees the token; an Error from the
// server is a *ServerError.
func Enroll(ctx context.Context, addr, token string, csrDER []byte, dev checks.Device) (*Enrolled, error) {
	return enroll(ctx, addr, token, csrDER, dev, nil, clock.Now)
}

// EnrollAttested is Enroll with the user's attestation in the request; the
// server records it with the enrollment, or refuses both with
// CodeBadAttestation.
func EnrollAttested(ctx context.Context, addr, token string, csrDER []byte, dev checks.Device, a *pb.Attestation) (*Enrolled, error) {
	return enroll(ctx, addr, token, csrDER, dev, a, clock.Now)
}

func enroll(ctx context.Context, addr, token string, csrDER []byte, dev checks.Device, att *pb.Attestation, now func() time.Time) (*Enrolled, error) {
	tok, err := pb.ParseEnrollToken(token)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("enroll: parse certificate request: %w", err)
	}
	req := &pb.EnrollRequest{Token: token, CsrDer: csrDER, Device: deviceInfo(dev), Attestation: att}
	str, stop, err := sendEnroll(ctx, addr, tok, req, now)
	if err != nil {
		return nil, err
	}
	defer stop()
	env, err := pb.ReadMsg(str)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("enroll: read response: %w", err)
	}
	switch m := env.Msg.(type) {
	case *pb.Envelope_Error:
		return nil, fmt.Errorf("enroll: %w", serverError(m.Error))
	case *pb.Envelope_Enrolled:
		return checkEnrolled(m.Enrolled, tok.CAPin, csr, now())
	default:
		return nil, fmt.Errorf("enroll: unexpected %T: %w", env.Msg, ErrProtocol)
	}
}

// sendEnroll connects to addr trusting only the CA the token pins, sends
// req and reads the server's hello. stop closes the link, which is also
// closed when ctx ends.
func sendEnroll(ctx context.Context, addr string, tok pb.EnrollToken, req *pb.EnrollRequest, now func() time.Time) (str link, stop func(), err error) {
	str, err = dial(ctx, addr, baseTLS(addr, verifyPinned(tok.CAPin, now)))
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: connect to %s: %w", addr, err)
	}
	unwatch := context.AfterFunc(ctx, func() { _ = str.Close() })
	stop = func() { unwatch(); _ = str.Close() }
	if err := writeHello(str, nil); err != nil {
		stop()
		return nil, nil, fmt.Errorf("enroll: %w", err)
	}
	if err := pb.WriteMsg(str, &pb.Envelope{Msg: &pb.Envelope_Enroll{Enroll: req}}); err != nil {
		stop()
		return nil, nil, fmt.Errorf("enroll: send request: %w", err)
	}
	if _, err := readHello(str); err != nil {
		stop()
		return nil, nil, fmt.Errorf("enroll: %w", err)
	}
	return str, stop, nil
}

// checkEnrolled verifies the server's answer before anything is saved.
func checkEnrolled(r *pb.EnrollResponse, pin [sha256.Size]byte, csr *x509.CertificateRequest, now time.Time) (*Enrolled, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("enroll: response: %s: %w", fmt.Sprintf(format, a...), ErrProtocol)
	}
	id := r.GetDeviceId()
	if id == "" || len(id) > maxDeviceIDLen {
		return nil, bad("device id %q", truncate(id, maxDeviceIDLen))
	}
	sum := sha256.Sum256(r.GetCaDer())
	if subtle.ConstantTimeCompare(sum[:], pin[:]) != 1 {
		return nil, fmt.Errorf("enroll: response CA differs from the token's pin: %w", ErrPinMismatch)
	}
	ca, err := x509.ParseCertificate(r.GetCaDer())
	if err != nil {
		return nil, bad("CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(r.GetCertificateDer())
	if err != nil {
		return nil, bad("device certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, bad("device certificate: %v", err)
	}
	pub, ok := cert.PublicKey.(interface{ Equal(x crypto.PublicKey) bool })
	if !ok || !pub.Equal(csr.PublicKey) {
		return nil, bad("device certificate is not for the device key")
	}
	if cert.Subject.CommonName != id {
		return nil, bad("device certificate names %q, not device %q", truncate(cert.Subject.CommonName, maxDeviceIDLen), id)
	}
	if err := pb.ValidateGatewayURL(r.GetGatewayUrl()); err != nil {
		return nil, bad("gateway URL: %v", err)
	}
	secret := r.GetAgentSecret()
	switch len(secret) {
	case 0:
		secret = nil
	case pb.AgentSecretSize:
	default:
		return nil, bad("agent secret is %d bytes, not %d", len(secret), pb.AgentSecretSize)
	}
	return &Enrolled{DeviceID: id, CertDER: cert.Raw, CADER: ca.Raw, GatewayURL: r.GetGatewayUrl(), Servers: r.GetServers(), KeyKind: r.GetKeyKind(), AgentSecret: secret}, nil
}

// deviceInfo is the device's description as reports carry it, cleaned
// the same way so that enrollment is not refused for its strings.
func deviceInfo(d checks.Device) *pb.DeviceInfo {
	return checks.ToWire(&checks.Report{Device: d}, 0).GetDevice()
}

type readWriter interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
}

// writeHello sends hello, or a plain Hello when it is nil.
func writeHello(w readWriter, hello *pb.Hello) error {
	if hello == nil {
		hello = &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: version.Version}
	}
	if err := pb.WriteMsg(w, &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: hello}}); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	return nil
}

// readHello reads the server's first message: its Hello, or an Error
// refusing the connection.
func readHello(r readWriter) (*pb.Hello, error) {
	env, err := pb.ReadMsg(r)
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	switch m := env.Msg.(type) {
	case *pb.Envelope_Hello:
		if m.Hello.GetProtocolVersion() != pb.ProtocolVersion {
			return nil, fmt.Errorf("server speaks protocol %d, not %d: %w", m.Hello.GetProtocolVersion(), pb.ProtocolVersion, ErrProtocol)
		}
		return m.Hello, nil
	case *pb.Envelope_Error:
		return nil, serverError(m.Error)
	default:
		return nil, fmt.Errorf("expected hello, got %T: %w", env.Msg, ErrProtocol)
	}
}

// maxErrorText bounds server-supplied text that may end up in logs and
// in state.json.
const maxErrorText = 512

func serverError(e *pb.Error) *ServerError {
	return &ServerError{Code: truncate(e.GetCode(), 64), Message: truncate(e.GetMessage(), maxErrorText), Sequence: e.GetSequence()}
}

// truncate bounds s to n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}
