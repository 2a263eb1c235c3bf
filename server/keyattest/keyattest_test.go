package keyattest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/internal/swtpmtest"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/keyattest"
)

// at is the test's clock: a minute after the EK certificate was issued.
// The throwaway CAs are made when first needed, so a fixed date could
// precede them; their certificates never expire (9999).
func at(t *testing.T, m *pb.TpmEnroll) time.Time {
	t.Helper()
	c, err := x509.ParseCertificate(m.GetEkCertificateDer())
	if err != nil {
		t.Fatal(err)
	}
	return c.NotBefore.Add(time.Minute)
}

func open(t *testing.T, ca, name string) *devkey.TPM {
	t.Helper()
	sw := swtpmtest.Start(t, ca, name)
	tpm, err := devkey.OpenTPM(sw.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tpm.Close() })
	return tpm
}

func verifier(t *testing.T, cas ...string) *keyattest.Verifier {
	t.Helper()
	var pemCAs []byte
	for _, ca := range cas {
		pemCAs = append(pemCAs, swtpmtest.LoadCA(t, ca).PEM...)
	}
	v, err := keyattest.NewVerifier(pemCAs)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// enrollment is one agent-side run: the TPM's opening message, the
// server's challenge, and the proof with a CSR signed by the new key.
type enrollment struct {
	begin   *pb.TpmEnroll
	pending *keyattest.Pending
	key     *devkey.HardwareKey
	proof   *pb.EnrollProof
	csr     *x509.CertificateRequest
}

func enroll(t *testing.T, tpm *devkey.TPM, v *keyattest.Verifier) enrollment {
	t.Helper()
	a, begin, err := tpm.BeginAttestation()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pending, ch, err := v.Begin(begin, at(t, begin))
	if err != nil {
		t.Fatal(err)
	}
	key, proof, err := a.Activate(ch)
	if err != nil {
		t.Fatal(err)
	}
	// A raw swtpm has three object slots and no resource manager: the
	// key is unloaded as soon as it has signed the CSR.
	defer key.Close()
	csrDER, err := devkey.CSR(key)
	if err != nil {
		t.Fatal(err)
	}
	proof.CsrDer = csrDER
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	return enrollment{begin: begin, pending: pending, key: key, proof: proof, csr: csr}
}

func wantRefused(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, keyattest.ErrAttestation) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got error %v, want a refusal naming %q", err, want)
	}
}

func TestATPMKeyCertifiedWithTheNonceIsAccepted(t *testing.T) {
	tpm := open(t, "a", "1")
	e := enroll(t, tpm, verifier(t, "a"))
	res, err := e.pending.Finish(e.proof, e.csr)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Trusted {
		t.Fatalf("result not trusted: %s", res.Why)
	}
	if !e.csr.PublicKey.(*ecdsa.PublicKey).Equal(e.key.Public()) {
		t.Fatal("CSR is not for the TPM key")
	}
	if err := e.csr.CheckSignature(); err != nil {
		t.Fatalf("CSR signed in the TPM does not verify: %v", err)
	}
}

func TestWithoutTrustedCAsATPMKeyIsCheckedButNotTrusted(t *testing.T) {
	tpm := open(t, "a", "1")
	e := enroll(t, tpm, verifier(t))
	res, err := e.pending.Finish(e.proof, e.csr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trusted || !strings.Contains(res.Why, "no TPM manufacturer CA") {
		t.Fatalf("got %+v, want untrusted saying no CA is configured", res)
	}
}

func TestAnEKFromAnUntrustedCAIsRefused(t *testing.T) {
	tpm := open(t, "b", "1")
	a, begin, err := tpm.BeginAttestation()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, _, err = verifier(t, "a").Begin(begin, at(t, begin))
	wantRefused(t, err, "does not chain to a trusted TPM manufacturer CA")
}

func TestASoftwareKeyClaimingToBeATPMKeyIsRefused(t *testing.T) {
	tpm := open(t, "a", "1")
	v := verifier(t, "a")
	t.Run("the CSR is signed by a software key, the certification is of a TPM key", func(t *testing.T) {
		e := enroll(t, tpm, v)
		soft, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, soft)
		if err != nil {
			t.Fatal(err)
		}
		csr, _ := x509.ParseCertificateRequest(der)
		_, err = e.pending.Finish(e.proof, csr)
		wantRefused(t, err, "not the key of the certificate request")
	})
	t.Run("the certification is forged for a software key", func(t *testing.T) {
		e := enroll(t, tpm, v)
		// A TPMS_ATTEST signed by anything but the AK fails its signature.
		forged := proto.Clone(e.proof).(*pb.EnrollProof)
		forged.KeyCertifySignature = append([]byte{}, e.proof.KeyCertifySignature...)
		forged.KeyCertifySignature[len(forged.KeyCertifySignature)-1] ^= 1
		_, err := e.pending.Finish(forged, e.csr)
		wantRefused(t, err, "key certification")
	})
}

func TestAReplayedCertificationIsRefused(t *testing.T) {
	tpm := open(t, "a", "1")
	v := verifier(t, "a")
	a, begin, err := tpm.BeginAttestation()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Two enrollments with the same AK: the second one's secret is
	// recovered honestly, but the key certification of the first is
	// replayed. Everything verifies but the nonce.
	round := func() (*keyattest.Pending, *pb.EnrollProof, *x509.CertificateRequest) {
		pending, ch, err := v.Begin(begin, at(t, begin))
		if err != nil {
			t.Fatal(err)
		}
		key, proof, err := a.Activate(ch)
		if err != nil {
			t.Fatal(err)
		}
		defer key.Close()
		if proof.CsrDer, err = devkey.CSR(key); err != nil {
			t.Fatal(err)
		}
		csr, err := x509.ParseCertificateRequest(proof.CsrDer)
		if err != nil {
			t.Fatal(err)
		}
		return pending, proof, csr
	}
	_, old, oldCSR := round()
	fresh, proof, _ := round()
	replay := &pb.EnrollProof{ActivatedSecret: proof.ActivatedSecret, CsrDer: old.CsrDer,
		KeyPublic: old.KeyPublic, KeyCertifyAttestation: old.KeyCertifyAttestation,
		KeyCertifySignature: old.KeyCertifySignature}
	_, err = fresh.Finish(replay, oldCSR)
	wantRefused(t, err, "nonce")
	_, err = fresh.Finish(old, oldCSR)
	wantRefused(t, err, "credential activation")
}

func TestAForeignCertificationIsRefused(t *testing.T) {
	v := verifier(t, "a")
	mine := enroll(t, open(t, "a", "1"), v)
	other := enroll(t, open(t, "a", "2"), v)
	// Another TPM's certification of its key, presented with my secret.
	foreign := &pb.EnrollProof{ActivatedSecret: mine.proof.ActivatedSecret, CsrDer: other.proof.CsrDer,
		KeyPublic: other.proof.KeyPublic, KeyCertifyAttestation: other.proof.KeyCertifyAttestation,
		KeyCertifySignature: other.proof.KeyCertifySignature}
	_, err := mine.pending.Finish(foreign, other.csr)
	wantRefused(t, err, "key certification")
}

func TestAKeyBlobCopiedToAnotherTPMDoesNotLoad(t *testing.T) {
	e := enroll(t, open(t, "a", "1"), verifier(t, "a"))
	blob, err := e.key.Blob()
	if err != nil {
		t.Fatal(err)
	}
	second := open(t, "a", "2")
	if k, err := second.LoadKey(blob); err == nil {
		_ = k.Close()
		t.Fatal("the key blob of one TPM loaded in another")
	}
}

func TestMalformedAttestationsAreRefusedNamingThePart(t *testing.T) {
	tpm := open(t, "a", "1")
	a, good, err := tpm.BeginAttestation()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	v := verifier(t, "a")
	tests := []struct {
		name string
		edit func(*pb.TpmEnroll)
		want string
	}{
		{"a missing EK certificate", func(m *pb.TpmEnroll) { m.EkCertificateDer = nil }, "EK certificate missing"},
		{"an oversized EK certificate", func(m *pb.TpmEnroll) { m.EkCertificateDer = make([]byte, 1<<20) }, "EK certificate missing or larger"},
		{"a garbage EK certificate", func(m *pb.TpmEnroll) { m.EkCertificateDer = []byte("not a certificate") }, "EK certificate"},
		{"a garbage AK public area", func(m *pb.TpmEnroll) { m.AkPublic = []byte{1, 2, 3} }, "attestation key"},
		{"a truncated AK signature", func(m *pb.TpmEnroll) { m.AkCreateSignature = m.AkCreateSignature[:4] }, "attestation key"},
		{"an AK creation attestation of another key", func(m *pb.TpmEnroll) {
			m.AkCreateAttestation = append([]byte{}, m.AkCreateAttestation...)
			m.AkCreateAttestation[len(m.AkCreateAttestation)-1] ^= 1
		}, "attestation key"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			m := &pb.TpmEnroll{EkCertificateDer: good.EkCertificateDer, AkPublic: good.AkPublic, AkCreateData: good.AkCreateData,
				AkCreateAttestation: good.AkCreateAttestation, AkCreateSignature: good.AkCreateSignature}
			tt.edit(m)
			_, _, err := v.Begin(m, at(t, good))
			wantRefused(t, err, tt.want)
		})
	}
}
