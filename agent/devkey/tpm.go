package devkey

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-attestation/attest"

	pb "github.com/postern-dev/postern/proto"
)

// ErrNoTPM: no TPM at the default location; the agent falls back to a
// software key and says so.
var ErrNoTPM = errors.New("no TPM 2.0 found")

// TPM is an open TPM 2.0. A TPM runs one command at a time, so every use
// goes through one lock; a TPM is safe for concurrent use.
type TPM struct {
	mu sync.Mutex
	at *attest.TPM
	// rwc is the command channel go-attestation uses; the renewal's
	// certification of an existing key goes to it directly (see
	// recertify.go), under mu like every command.
	rwc io.ReadWriter
	// loaded are the keys to flush at Close: a TPM without a resource
	// manager (swtpm, /dev/tpm0) keeps them until reset otherwise, and
	// has room for only a few.
	loaded map[*HardwareKey]struct{}
	// Path names the TPM in messages: a device path or socket.
	Path string
}

// openChannel wraps a raw command channel (device file or swtpm socket)
// as go-attestation wants it.
func openChannel(path string, rwc io.ReadWriteCloser) (*TPM, error) {
	at, err := attest.OpenTPM(&attest.OpenConfig{CommandChannel: channel{rwc}})
	if err != nil {
		_ = rwc.Close()
		return nil, fmt.Errorf("open TPM %s: %w", path, err)
	}
	return &TPM{at: at, rwc: rwc, Path: path, loaded: map[*HardwareKey]struct{}{}}, nil
}

// channel is a command channel without a measurement log: Postern
// attests keys, not boot state.
type channel struct{ io.ReadWriteCloser }

func (channel) MeasurementLog() ([]byte, error) {
	return nil, errors.New("no measurement log")
}

// Close flushes the keys still loaded and releases the TPM.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.loaded {
		_ = k.k.Close()
		delete(t.loaded, k)
	}
	return t.at.Close()
}

// HardwareKey is a device key inside a TPM. Close unloads it.
type HardwareKey struct {
	t      *TPM
	k      *attest.Key
	signer crypto.Signer
}

var _ Key = (*HardwareKey)(nil)

// Kind is Hardware.
func (*HardwareKey) Kind() Kind { return Hardware }

// Public returns the key's public half.
func (k *HardwareKey) Public() crypto.PublicKey { return k.k.Public() }

// Sign signs digest inside the TPM.
func (k *HardwareKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.t.mu.Lock()
	defer k.t.mu.Unlock()
	sig, err := k.signer.Sign(r, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("sign with the TPM key: %w", err)
	}
	return sig, nil
}

// Blob is what the state directory keeps: the TPM-wrapped key (its
// public and private TPM2B parts, the latter encrypted by the TPM's
// storage root key), useless on any other TPM.
func (k *HardwareKey) Blob() ([]byte, error) {
	b, err := k.k.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode TPM key: %w", err)
	}
	return b, nil
}

// Close flushes the key from the TPM.
func (k *HardwareKey) Close() error {
	k.t.mu.Lock()
	defer k.t.mu.Unlock()
	if _, ok := k.t.loaded[k]; !ok {
		return nil
	}
	delete(k.t.loaded, k)
	return k.k.Close()
}

func (t *TPM) wrap(k *attest.Key) (*HardwareKey, error) {
	s, err := k.Private(k.Public())
	if err != nil {
		_ = k.Close()
		return nil, fmt.Errorf("TPM key signer: %w", err)
	}
	signer, ok := s.(crypto.Signer)
	if !ok {
		_ = k.Close()
		return nil, fmt.Errorf("TPM key signer: %T is no crypto.Signer", s)
	}
	hk := &HardwareKey{t: t, k: k, signer: signer}
	t.mu.Lock()
	t.loaded[hk] = struct{}{}
	t.mu.Unlock()
	return hk, nil
}

// LoadKey loads a key blob made by this TPM. A blob from another TPM
// fails here: its private part is sealed to that TPM's storage root key.
func (t *TPM) LoadKey(blob []byte) (*HardwareKey, error) {
	t.mu.Lock()
	k, err := t.at.LoadKey(blob)
	t.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("load the device key into TPM %s (a key made by another TPM cannot be loaded): %w", t.Path, err)
	}
	return t.wrap(k)
}

// Attestation is a TPM enrollment in progress: an attestation key (AK)
// made for it and the endorsement key (EK) whose certificate vouches for
// the TPM. Close flushes the AK.
type Attestation struct {
	t  *TPM
	ak *attest.AK
	ek attest.EK
}

// BeginAttestation makes an AK and returns it with the EK certificate,
// as sent to the server. A TPM without an EK certificate in its NV
// storage cannot prove what it is and gets an error.
func (t *TPM) BeginAttestation() (*Attestation, *pb.TpmEnroll, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	eks, err := t.at.EKCertificates()
	if err != nil {
		return nil, nil, fmt.Errorf("read the TPM's endorsement key certificate: %w", err)
	}
	ek, ok := pickEK(eks)
	if !ok {
		return nil, nil, errors.New("the TPM has no endorsement key certificate; its manufacturer cannot vouch for it")
	}
	// An ECC AK: an RSA one costs the TPM a 2048-bit key generation
	// (about a second on swtpm, more on some chips) for each enrollment.
	ak, err := t.at.NewAK(&attest.AKConfig{Algorithm: attest.ECDSA})
	if err != nil {
		return nil, nil, fmt.Errorf("make attestation key: %w", err)
	}
	p := ak.AttestationParameters()
	return &Attestation{t: t, ak: ak, ek: ek}, &pb.TpmEnroll{
		EkCertificateDer:    ek.Certificate.Raw,
		AkPublic:            p.Public,
		AkCreateData:        p.CreateData,
		AkCreateAttestation: p.CreateAttestation,
		AkCreateSignature:   p.CreateSignature,
	}, nil
}

// pickEK prefers the RSA EK: the one every TPM 2.0 has, at the
// well-known handle that credential activation uses.
func pickEK(eks []attest.EK) (attest.EK, bool) {
	var found *attest.EK
	for i := range eks {
		if eks[i].Certificate == nil {
			continue
		}
		if found == nil || eks[i].Certificate.PublicKeyAlgorithm.String() == "RSA" {
			found = &eks[i]
		}
	}
	if found == nil {
		return attest.EK{}, false
	}
	return *found, true
}

// Activate recovers the challenge's secret (only possible on the TPM
// that holds both the EK and the AK) and makes the device key, certified
// by the AK with the challenge's nonce. It returns the key and the proof
// without a CSR (the caller signs one with the key).
func (a *Attestation) Activate(ch *pb.EnrollChallenge) (*HardwareKey, *pb.EnrollProof, error) {
	a.t.mu.Lock()
	secret, err := a.ak.ActivateCredentialWithEK(a.t.at, attestCredential(ch), a.ek)
	if err != nil {
		a.t.mu.Unlock()
		return nil, nil, fmt.Errorf("activate the server's credential: %w", err)
	}
	k, err := a.t.at.NewKey(a.ak, &attest.KeyConfig{Algorithm: attest.ECDSA, Size: 256, QualifyingData: ch.GetNonce()})
	a.t.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("make the device key in the TPM: %w", err)
	}
	cp := k.CertificationParameters()
	hk, err := a.t.wrap(k)
	if err != nil {
		return nil, nil, err
	}
	return hk, &pb.EnrollProof{
		ActivatedSecret:       secret,
		KeyPublic:             cp.Public,
		KeyCertifyAttestation: cp.CreateAttestation,
		KeyCertifySignature:   cp.CreateSignature,
	}, nil
}

// Close flushes the AK; the enrollment needs it no more.
func (a *Attestation) Close() error {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	return a.ak.Close(a.t.at)
}

// Prover runs the TPM side of an enrollment (agent/client.Prover): an AK
// for the challenge, then the device key certified with its nonce and a
// CSR signed by it. Key returns that key afterwards.
type Prover struct {
	T   *TPM
	a   *Attestation
	key *HardwareKey
}

// Begin makes the AK and returns the opening message.
func (p *Prover) Begin() (*pb.TpmEnroll, error) {
	a, m, err := p.T.BeginAttestation()
	if err != nil {
		return nil, err
	}
	p.a = a
	return m, nil
}

// Prove answers the challenge; the AK is flushed once it has served.
func (p *Prover) Prove(ch *pb.EnrollChallenge) (*pb.EnrollProof, error) {
	if p.a == nil {
		return nil, errors.New("prove: Begin was not called")
	}
	key, proof, err := p.a.Activate(ch)
	_ = p.a.Close()
	p.a = nil
	if err != nil {
		return nil, err
	}
	csr, err := CSR(key)
	if err != nil {
		_ = key.Close()
		return nil, err
	}
	proof.CsrDer = csr
	p.key = key
	return proof, nil
}

// Key is the device key made by Prove; nil before.
func (p *Prover) Key() *HardwareKey { return p.key }

// Close flushes the AK if the enrollment stopped before Prove.
func (p *Prover) Close() error {
	if p.a == nil {
		return nil
	}
	err := p.a.Close()
	p.a = nil
	return err
}

// attestCredential is the challenge's credential as go-attestation takes
// it.
func attestCredential(ch *pb.EnrollChallenge) attest.EncryptedCredential {
	return attest.EncryptedCredential{Credential: ch.GetCredential(), Secret: ch.GetEncryptedSecret()}
}
