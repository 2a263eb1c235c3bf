package ingest

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

// CodeBadKeyAttestation refuses an enrollment whose TPM attestation does
// not hold; the message names the part that failed. No token is spent.
const CodeBadKeyAttestation = "bad_key_attestation"

// tpmEnroll runs the TPM half of an enrollment on the stream: it checks
// the EK and AK, sends the challenge, reads and checks the proof. It
// returns the CSR to sign and the key kind the device gets: hardware when
// the EK chains to a trusted manufacturer CA, software (with a log line
// saying why) when the server trusts none. On a refusal it has answered
// the agent and returns false; the token is untouched.
func (s *Server) tpmEnroll(st *stream, t *pb.TpmEnroll, now time.Time) ([]byte, string, bool) {
	pending, ch, err := s.keyVerifier.Begin(t, now)
	if err != nil {
		st.refuse(CodeBadKeyAttestation, err.Error(), 0)
		return nil, "", false
	}
	if err := st.send(&pb.Envelope{Msg: &pb.Envelope_EnrollChallenge{EnrollChallenge: ch}}); err != nil {
		return nil, "", false
	}
	env, err := st.read(enrollTimeout)
	if err != nil {
		if !quietEnd(err) {
			st.abort(err)
		}
		return nil, "", false
	}
	proof := env.GetEnrollProof()
	if proof == nil {
		st.refuse(CodeBadRequest, "expected EnrollProof after the TPM challenge", 0)
		return nil, "", false
	}
	if n := len(proof.GetCsrDer()); n == 0 || n > ca.MaxCSRSize {
		st.refuse(CodeBadRequest, fmt.Sprintf("certificate request of %d bytes: want 1 to %d", n, ca.MaxCSRSize), 0)
		return nil, "", false
	}
	csr, err := x509.ParseCertificateRequest(proof.GetCsrDer())
	if err != nil {
		st.refuse(CodeBadRequest, "certificate request: "+err.Error(), 0)
		return nil, "", false
	}
	res, err := pending.Finish(proof, csr)
	if err != nil {
		st.refuse(CodeBadKeyAttestation, err.Error(), 0)
		return nil, "", false
	}
	if !res.Trusted {
		st.log.Warn("TPM key recorded as software", "reason", res.Why)
		return proof.GetCsrDer(), store.KeySoftware, true
	}
	return proof.GetCsrDer(), store.KeyHardware, true
}

// sameKey checks that a renewal CSR is for the key of the certificate
// the device connected with.
func sameKey(csrDER []byte, peer *x509.Certificate) error {
	if len(csrDER) > ca.MaxCSRSize {
		return fmt.Errorf("certificate request of %d bytes: at most %d", len(csrDER), ca.MaxCSRSize)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return fmt.Errorf("certificate request: %w", err)
	}
	eq, ok := peer.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(csr.PublicKey) {
		return errors.New("this device's key was attested to be in a TPM; a renewal must keep that key")
	}
	return nil
}

// renewAttested renews the certificate of a device that proves again,
// as at enrollment, that its key is in a TPM: the EK and a fresh AK, the
// server's challenge on the control stream, and the existing key
// certified with its nonce. A device recorded as hardware must keep its
// key (sameKey); any device's failed proof is refused, since an agent
// that offers a proof must be able to give it.
func (s *Server) renewAttested(cs *controlStream, dev store.Device, peer *x509.Certificate, req *pb.RenewRequest) *pb.Envelope {
	st := cs.st
	pending, ch, err := s.keyVerifier.Begin(req.GetTpm(), s.now())
	if err != nil {
		return errorEnvelope(CodeBadKeyAttestation, err.Error(), 0)
	}
	if err := cs.send(&pb.Envelope{Msg: &pb.Envelope_EnrollChallenge{EnrollChallenge: ch}}); err != nil {
		return errorEnvelope(CodeInternal, "send the TPM challenge: "+err.Error(), 0)
	}
	env, err := st.read(enrollTimeout)
	if err != nil {
		return errorEnvelope(CodeBadRequest, "no EnrollProof after the TPM challenge: "+err.Error(), 0)
	}
	proof := env.GetEnrollProof()
	if proof == nil {
		return errorEnvelope(CodeBadRequest, "expected EnrollProof after the TPM challenge", 0)
	}
	if n := len(proof.GetCsrDer()); n == 0 || n > ca.MaxCSRSize {
		return errorEnvelope(CodeBadRequest, fmt.Sprintf("certificate request of %d bytes: want 1 to %d", n, ca.MaxCSRSize), 0)
	}
	csr, err := x509.ParseCertificateRequest(proof.GetCsrDer())
	if err != nil {
		return errorEnvelope(CodeBadRequest, "certificate request: "+err.Error(), 0)
	}
	res, err := pending.Finish(proof, csr)
	if err != nil {
		return errorEnvelope(CodeBadKeyAttestation, err.Error(), 0)
	}
	if err := sameKey(proof.GetCsrDer(), peer); err != nil {
		return errorEnvelope(CodeBadKeyAttestation, err.Error(), 0)
	}
	if !res.Trusted {
		st.log.Warn("TPM key re-attested without a trusted EK CA", "reason", res.Why)
	}
	return s.issueRenewal(st, dev, peer, proof.GetCsrDer(), res.Trusted)
}
