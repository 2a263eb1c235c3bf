package client

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// Prover makes the device key inside a TPM and proves it to the server:
// devkey's TPM in the agent, hand-made fakes in tests that try attacks.
type Prover interface {
	// Begin returns the EK certificate and a fresh attestation key.
	Begin() (*pb.TpmEnroll, error)
	// Prove answers the server's challenge: the activated secret, the
	// device key's certification with the nonce, and a CSR signed by
	// that key.
	Prove(ch *pb.EnrollChallenge) (*pb.EnrollProof, error)
}

// Maximum sizes of the challenge's parts an agent accepts.
const (
	maxNonce      = 64
	maxCredential = 1 << 10
)

// EnrollTPM is EnrollAttested with a TPM-attested device key: the server
// checks that the key lives in a TPM its configuration trusts before it
// spends the token. The CSR comes from the prover.
func EnrollTPM(ctx context.Context, addr, token string, dev checks.Device, att *pb.Attestation, p Prover) (*Enrolled, error) {
	return enrollTPM(ctx, addr, token, dev, att, p, clock.Now)
}

func enrollTPM(ctx context.Context, addr, token string, dev checks.Device, att *pb.Attestation, p Prover, now func() time.Time) (*Enrolled, error) {
	tok, err := pb.ParseEnrollToken(token)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	begin, err := p.Begin()
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	req := &pb.EnrollRequest{Token: token, Device: deviceInfo(dev), Attestation: att, Tpm: begin}
	str, stop, err := sendEnroll(ctx, addr, tok, req, now)
	if err != nil {
		return nil, err
	}
	defer stop()
	env, err := readCtx(ctx, str)
	if err != nil {
		return nil, err
	}
	var ch *pb.EnrollChallenge
	switch m := env.Msg.(type) {
	case *pb.Envelope_Error:
		return nil, fmt.Errorf("enroll: %w", serverError(m.Error))
	case *pb.Envelope_EnrollChallenge:
		ch = m.EnrollChallenge
	default:
		return nil, fmt.Errorf("enroll: expected a TPM challenge, got %T: %w", env.Msg, ErrProtocol)
	}
	if n := len(ch.GetNonce()); n == 0 || n > maxNonce || len(ch.GetCredential()) > maxCredential || len(ch.GetEncryptedSecret()) > maxCredential {
		return nil, fmt.Errorf("enroll: malformed TPM challenge: %w", ErrProtocol)
	}
	proof, err := p.Prove(ch)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(proof.GetCsrDer())
	if err != nil {
		return nil, fmt.Errorf("enroll: parse certificate request: %w", err)
	}
	if err := pb.WriteMsg(str, &pb.Envelope{Msg: &pb.Envelope_EnrollProof{EnrollProof: proof}}); err != nil {
		return nil, fmt.Errorf("enroll: send proof: %w", err)
	}
	if env, err = readCtx(ctx, str); err != nil {
		return nil, err
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

func readCtx(ctx context.Context, str readWriter) (*pb.Envelope, error) {
	env, err := pb.ReadMsg(str)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("enroll: read response: %w", err)
	}
	return env, nil
}
