package devkey

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpmutil"

	pb "github.com/postern-dev/postern/proto"
)

// srkHandle is the storage root key go-attestation keeps the device key
// and the attestation keys under (its default parent).
const srkHandle tpmutil.Handle = 0x81000001

// RenewProver re-attests an existing device key at renewal (an
// agent/client.Prover): a fresh AK proves, by activating the server's
// credential, that it lives in the TPM of the EK, and then certifies the
// device key that is already there with the server's nonce. The key
// stays where it is; the CSR is signed by it.
type RenewProver struct {
	T   *TPM
	Key *HardwareKey
	a   *Attestation
}

// Begin makes the AK and returns the opening message.
func (p *RenewProver) Begin() (*pb.TpmEnroll, error) {
	a, m, err := p.T.BeginAttestation()
	if err != nil {
		return nil, err
	}
	p.a = a
	return m, nil
}

// Prove answers the challenge; the AK is flushed once it has served.
func (p *RenewProver) Prove(ch *pb.EnrollChallenge) (*pb.EnrollProof, error) {
	if p.a == nil {
		return nil, errors.New("prove: Begin was not called")
	}
	a := p.a
	p.a = nil
	a.t.mu.Lock()
	secret, err := a.ak.ActivateCredentialWithEK(a.t.at, attestCredential(ch), a.ek)
	var akBlob []byte
	if err == nil {
		akBlob, err = a.ak.Marshal()
	}
	// The AK and the device key are loaded again below under handles of
	// our own (go-attestation keeps its handles to itself): theirs are
	// flushed first, since a TPM without a resource manager (swtpm,
	// /dev/tpm0) has room for only two objects loaded under the SRK.
	_ = a.ak.Close(a.t.at)
	if err != nil {
		a.t.mu.Unlock()
		return nil, fmt.Errorf("activate the server's credential: %w", err)
	}
	pub, att, sig, err := a.t.certifyExisting(akBlob, p.Key, ch.GetNonce())
	a.t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	csr, err := CSR(p.Key)
	if err != nil {
		return nil, err
	}
	return &pb.EnrollProof{ActivatedSecret: secret, KeyPublic: pub, KeyCertifyAttestation: att, KeyCertifySignature: sig, CsrDer: csr}, nil
}

// Close flushes the AK if it is still loaded.
func (p *RenewProver) Close() error {
	if p.a == nil {
		return nil
	}
	err := p.a.Close()
	p.a = nil
	return err
}

// blob is the part of go-attestation's serialized key (Key.Marshal,
// AK.Marshal) that loads it: the TPM2B public and private areas.
type blob struct {
	Public []byte
	Blob   []byte `json:"KeyBlob"`
}

// loadBlob loads a go-attestation key blob under the SRK and returns
// its handle; go-attestation's own handles are not exported, and a
// second load of the same blob is another handle to the same key.
func (t *TPM) loadBlob(marshalled []byte) (tpmutil.Handle, error) {
	var b blob
	if err := json.Unmarshal(marshalled, &b); err != nil || len(b.Public) == 0 || len(b.Blob) == 0 {
		return 0, fmt.Errorf("key blob: not a TPM 2.0 key (%v)", err)
	}
	h, _, err := tpm2.Load(t.rwc, srkHandle, "", b.Public, b.Blob)
	if err != nil {
		return 0, fmt.Errorf("load key: %w", err)
	}
	return h, nil
}

// certifyExisting has the AK (akBlob, go-attestation's serialization)
// certify key with nonce as
// qualifying data (TPM2_Certify), returning the key's public area, the
// attestation and its signature. Called with t.mu held.
func (t *TPM) certifyExisting(akBlob []byte, key *HardwareKey, nonce []byte) (pub, att, sig []byte, err error) {
	keyBlob, err := key.k.Marshal()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("device key: %w", err)
	}
	// The device key's own handle is flushed for the time of the
	// certification and the key loaded again afterwards, in place, so
	// that whoever holds key goes on signing with it.
	_ = key.k.Close()
	defer func() {
		if rerr := t.reload(key, keyBlob); rerr != nil && err == nil {
			err = rerr
		}
	}()
	akh, err := t.loadBlob(akBlob)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("attestation key: %w", err)
	}
	defer tpm2.FlushContext(t.rwc, akh)
	kh, err := t.loadBlob(keyBlob)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("device key: %w", err)
	}
	defer tpm2.FlushContext(t.rwc, kh)
	public, _, _, err := tpm2.ReadPublic(t.rwc, kh)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the device key: %w", err)
	}
	if pub, err = public.Encode(); err != nil {
		return nil, nil, nil, fmt.Errorf("read the device key: %w", err)
	}
	att, sig, err = tpm2.CertifyEx(t.rwc, "", "", kh, akh, nonce, tpm2.SigScheme{Alg: tpm2.AlgECDSA, Hash: tpm2.AlgSHA256})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("certify the device key: %w", err)
	}
	return pub, att, sig, nil
}

// reload loads the device key's blob again after certifyExisting
// flushed it, into the same HardwareKey. Called with t.mu held.
func (t *TPM) reload(key *HardwareKey, blob []byte) error {
	k, err := t.at.LoadKey(blob)
	if err != nil {
		return fmt.Errorf("load the device key again: %w", err)
	}
	s, err := k.Private(k.Public())
	if err != nil {
		_ = k.Close()
		return fmt.Errorf("load the device key again: %w", err)
	}
	signer, ok := s.(crypto.Signer)
	if !ok {
		_ = k.Close()
		return fmt.Errorf("load the device key again: %T is no crypto.Signer", s)
	}
	key.k, key.signer = k, signer
	return nil
}
