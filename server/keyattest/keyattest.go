package keyattest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-attestation/attest"
	"github.com/google/go-tpm/legacy/tpm2"

	pb "github.com/postern-dev/postern/proto"
)

// NonceSize is the size of the server's nonce, in bytes.
const NonceSize = 32

// Sizes beyond which an attestation is refused before any parsing: real
// EK certificates are 1-2 KB, TPM structures a few hundred bytes.
const (
	maxCertificate = 8 << 10
	maxStructure   = 4 << 10
)

// ErrAttestation is wrapped by every refusal; its message names the part
// that failed.
var ErrAttestation = errors.New("TPM attestation refused")

// Verifier checks attestations against a set of trusted EK CAs.
type Verifier struct {
	roots, intermediates *x509.CertPool
	trusted              int
	rand                 io.Reader
}

// NewVerifier trusts the certificates in caPEM: self-signed ones as
// roots, others as intermediates that must chain to a root. With none,
// no EK is trusted: keys are still checked to be TPM-made, but the
// device is recorded with a software key (Result.Trusted false).
func NewVerifier(caPEM []byte) (*Verifier, error) {
	v := &Verifier{roots: x509.NewCertPool(), intermediates: x509.NewCertPool(), rand: rand.Reader}
	for rest := caPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return nil, errors.New("trusted TPM CAs: text that is not a PEM block")
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("trusted TPM CAs: unexpected %s block", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("trusted TPM CAs: %w", err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("trusted TPM CAs: %q is not a CA certificate", c.Subject)
		}
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			v.roots.AddCert(c)
			v.trusted++
		} else {
			v.intermediates.AddCert(c)
		}
	}
	return v, nil
}

// TrustsAny reports whether any root is configured.
func (v *Verifier) TrustsAny() bool { return v != nil && v.trusted > 0 }

// Pending is an enrollment between challenge and proof. It lives only in
// the server's memory, for one stream: a proof cannot be replayed into
// another enrollment because the nonce and secret are new each time.
type Pending struct {
	nonce, secret []byte
	ak            *attest.AKPublic
	ekTrusted     bool
	why           string
}

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrAttestation, fmt.Sprintf(format, a...))
}

// Begin checks the EK certificate and the AK and returns the challenge.
func (v *Verifier) Begin(req *pb.TpmEnroll, now time.Time) (*Pending, *pb.EnrollChallenge, error) {
	if len(req.GetEkCertificateDer()) == 0 || len(req.GetEkCertificateDer()) > maxCertificate {
		return nil, nil, refuse("EK certificate missing or larger than %d bytes", maxCertificate)
	}
	for name, b := range map[string][]byte{"AK public area": req.GetAkPublic(), "AK creation data": req.GetAkCreateData(),
		"AK creation attestation": req.GetAkCreateAttestation(), "AK creation signature": req.GetAkCreateSignature()} {
		if len(b) == 0 || len(b) > maxStructure {
			return nil, nil, refuse("%s missing or larger than %d bytes", name, maxStructure)
		}
	}
	ek, err := attest.ParseEKCertificate(req.GetEkCertificateDer())
	if err != nil {
		return nil, nil, refuse("EK certificate: %v", err)
	}
	p := &Pending{ekTrusted: true}
	if !v.TrustsAny() {
		p.ekTrusted, p.why = false, "no TPM manufacturer CA is trusted by this server (tpm_ek_ca_file)"
	} else if err := v.verifyEK(ek, now); err != nil {
		return nil, nil, err
	}
	params := attest.AttestationParameters{
		Public: req.GetAkPublic(), CreateData: req.GetAkCreateData(),
		CreateAttestation: req.GetAkCreateAttestation(), CreateSignature: req.GetAkCreateSignature(),
	}
	ap := attest.ActivationParameters{EK: ek.PublicKey, AK: params, Rand: v.rand}
	secret, ec, err := ap.Generate()
	if err != nil {
		return nil, nil, refuse("attestation key: %v", err)
	}
	ak, err := attest.ParseAKPublic(params.Public)
	if err != nil {
		return nil, nil, refuse("attestation key: %v", err)
	}
	p.ak, p.secret, p.nonce = ak, secret, make([]byte, NonceSize)
	if _, err := io.ReadFull(v.rand, p.nonce); err != nil {
		return nil, nil, fmt.Errorf("make nonce: %w", err)
	}
	return p, &pb.EnrollChallenge{Nonce: p.nonce, Credential: ec.Credential, EncryptedSecret: ec.Secret}, nil
}

// verifyEK checks the chain to a trusted root. EK certificates carry the
// TCG's EK extended key usage and a critical subject alternative name of
// TPM attributes, so key usage is not restricted here.
func (v *Verifier) verifyEK(ek *x509.Certificate, now time.Time) error {
	// The TCG profile puts the TPM's manufacturer, model and version in a
	// critical subject alternative name of directoryName form, which Go
	// does not interpret; only that extension is taken as understood.
	var left []asn1.ObjectIdentifier
	for _, oid := range ek.UnhandledCriticalExtensions {
		if !oid.Equal(oidSubjectAltName) {
			left = append(left, oid)
		}
	}
	ek.UnhandledCriticalExtensions = left
	_, err := ek.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: v.intermediates,
		CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return refuse("EK certificate issued by %q does not chain to a trusted TPM manufacturer CA: %v", ek.Issuer, err)
	}
	return nil
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// Result is what a verified proof establishes.
type Result struct {
	// Trusted is true when the EK chains to a trusted manufacturer CA:
	// the device key is then a hardware key.
	Trusted bool
	// Why says why an untrusted result is untrusted.
	Why string
}

// Finish checks the proof against the challenge and the CSR: the secret
// was recovered by the TPM, the AK certified the device key with this
// challenge's nonce, the key cannot leave the TPM, and it is the key of
// the certificate request.
func (p *Pending) Finish(proof *pb.EnrollProof, csr *x509.CertificateRequest) (Result, error) {
	if subtle.ConstantTimeCompare(proof.GetActivatedSecret(), p.secret) != 1 {
		return Result{}, refuse("credential activation: the secret does not match; the attestation key is not on the TPM of that EK")
	}
	for name, b := range map[string][]byte{"device key public area": proof.GetKeyPublic(),
		"key certification": proof.GetKeyCertifyAttestation(), "key certification signature": proof.GetKeyCertifySignature()} {
		if len(b) == 0 || len(b) > maxStructure {
			return Result{}, refuse("%s missing or larger than %d bytes", name, maxStructure)
		}
	}
	cp := attest.CertificationParameters{Public: proof.GetKeyPublic(),
		CreateAttestation: proof.GetKeyCertifyAttestation(), CreateSignature: proof.GetKeyCertifySignature()}
	if err := cp.Verify(attest.VerifyOpts{Public: p.ak.Public, Hash: p.ak.Hash}); err != nil {
		return Result{}, refuse("key certification: %v", err)
	}
	att, err := tpm2.DecodeAttestationData(cp.CreateAttestation)
	if err != nil {
		return Result{}, refuse("key certification: %v", err)
	}
	if subtle.ConstantTimeCompare(att.ExtraData, p.nonce) != 1 {
		return Result{}, refuse("key certification: it does not carry this enrollment's nonce (replayed, or made for another enrollment)")
	}
	pub, err := tpm2.DecodePublic(cp.Public)
	if err != nil {
		return Result{}, refuse("device key public area: %v", err)
	}
	key, err := pub.Key()
	if err != nil {
		return Result{}, refuse("device key public area: %v", err)
	}
	eq, ok := key.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || csr == nil || !eq.Equal(csr.PublicKey) {
		return Result{}, refuse("the certified TPM key is not the key of the certificate request")
	}
	return Result{Trusted: p.ekTrusted, Why: p.why}, nil
}
