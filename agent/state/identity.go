package state

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/postern-dev/postern/agent/devkey"
	pb "github.com/postern-dev/postern/proto"
)

// Identity is identity.json: who this device is to which server.
type Identity struct {
	DeviceID   string    `json:"device_id"`
	Server     string    `json:"server"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// CertSHA256 is the lowercase hex SHA-256 of the device certificate's
	// DER, the device's identity on the decision API.
	CertSHA256 string `json:"cert_sha256"`
	// GatewayURL is the EHR gateway's origin the server sent at
	// enrollment; the browsers' certificate policies name it.
	GatewayURL string `json:"gateway_url,omitempty"`
	// Key says where the device key lives; empty in identities saved
	// before hardware keys, which were all software keys.
	Key devkey.Kind `json:"key,omitempty"`
	// KeyVerified is what the server recorded for the key at enrollment,
	// which is what it verified: hardware only for a key a trusted TPM
	// attested. A key in the TPM without such a proof (Windows' Platform
	// Crypto Provider, a server trusting no EK CA) is software here.
	// Empty in identities saved before it.
	KeyVerified devkey.Kind `json:"key_verified,omitempty"`
	// Servers are the server's replicas (host:port) as it last said, at
	// enrollment or in a Hello; the agent fails over between Server and
	// them (failover.go).
	Servers []string `json:"servers,omitempty"`
}

// VerifiedKeyKind is the key kind the server verified, as the decisions
// say it; for identities saved before the server said, where the key
// lives.
func (id Identity) VerifiedKeyKind() devkey.Kind {
	if id.KeyVerified.Valid() {
		return id.KeyVerified
	}
	return id.KeyKind()
}

// KeyKind is where the device key lives.
func (id Identity) KeyKind() devkey.Kind {
	if id.Key == "" {
		return devkey.Software
	}
	return id.Key
}

// Enrollment is everything a successful enrollment leaves on disk.
type Enrollment struct {
	DeviceID   string
	Server     string
	EnrolledAt time.Time
	// Key is the device key: a software key, saved as a PEM file, or a
	// TPM key, saved as its TPM-wrapped blob.
	Key        devkey.Key
	CertDER    []byte
	CADER      []byte
	GatewayURL string
	Servers    []string
	// KeyVerified is the server's word on the key (Identity.KeyVerified).
	KeyVerified devkey.Kind
	// AgentSecret is the server's agent secret for this device; nil from
	// a server before agent secrets.
	AgentSecret []byte
}

func publicEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// CertSHA256 returns the lowercase hex SHA-256 of a certificate's DER.
func CertSHA256(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// LoadIdentity reads identity.json; a device that never enrolled gets
// ErrNotEnrolled.
func (d *Dir) LoadIdentity() (Identity, error) {
	b, err := d.read(IdentityFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, ErrNotEnrolled
	}
	if err != nil {
		return Identity{}, fmt.Errorf("load identity: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return Identity{}, fmt.Errorf("load identity: %w: %v", ErrCorrupt, err)
	}
	if id.DeviceID == "" || id.Server == "" {
		return Identity{}, fmt.Errorf("load identity: device_id or server missing: %w", ErrCorrupt)
	}
	return id, nil
}

// CanEnroll returns ErrAlreadyEnrolled when an identity exists and force
// is false, so that a mistyped command cannot discard a device's identity.
func (d *Dir) CanEnroll(force bool) error {
	ok, err := d.exists(IdentityFile)
	if err != nil {
		return fmt.Errorf("check identity: %w", err)
	}
	if ok && !force {
		return ErrAlreadyEnrolled
	}
	return nil
}

// SaveEnrollment writes the key, certificates and identity. identity.json
// is written last: it is the commit mark, so an interrupted enrollment
// leaves a device that is still "not enrolled" and can simply retry.
func (d *Dir) SaveEnrollment(e Enrollment, force bool) (Identity, error) {
	if err := d.CanEnroll(force); err != nil {
		return Identity{}, err
	}
	cert, err := x509.ParseCertificate(e.CertDER)
	if err != nil {
		return Identity{}, fmt.Errorf("save enrollment: parse device certificate: %w", err)
	}
	if !publicEqual(e.Key.Public(), cert.PublicKey) {
		return Identity{}, errors.New("save enrollment: device certificate is not for the device key")
	}
	if _, err := x509.ParseCertificate(e.CADER); err != nil {
		return Identity{}, fmt.Errorf("save enrollment: parse CA certificate: %w", err)
	}
	name, blob, err := keyFile(e.Key)
	if err != nil {
		return Identity{}, err
	}
	if err := d.write(name, blob, 0o600); err != nil {
		return Identity{}, fmt.Errorf("save device key: %w", err)
	}
	// A re-enrollment may change where the key lives: the other kind's
	// file must not survive (a stale PEM key beside a TPM key would be
	// a copyable key).
	for _, other := range []string{KeyFile, TPMKeyFile} {
		if other != name {
			if err := d.remove(other); err != nil {
				return Identity{}, fmt.Errorf("remove old device key: %w", err)
			}
		}
	}
	d.keyMu.Lock()
	d.hwKey = nil
	d.keyMu.Unlock()
	// A re-enrollment replaces the secret; one with a server that issues
	// none must not keep the old device's.
	if e.AgentSecret != nil {
		err = d.write(AgentSecretFile, e.AgentSecret, 0o600)
	} else {
		err = d.remove(AgentSecretFile)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("save agent secret: %w", err)
	}
	if err := d.write(CertFile, pemCert(e.CertDER), 0o644); err != nil {
		return Identity{}, fmt.Errorf("save device certificate: %w", err)
	}
	if err := d.write(CAFile, pemCert(e.CADER), 0o644); err != nil {
		return Identity{}, fmt.Errorf("save CA certificate: %w", err)
	}
	id := Identity{DeviceID: e.DeviceID, Server: e.Server, EnrolledAt: e.EnrolledAt.UTC(), CertSHA256: CertSHA256(e.CertDER), GatewayURL: e.GatewayURL, Key: e.Key.Kind(), Servers: e.Servers, KeyVerified: e.KeyVerified}
	if err := d.saveIdentity(id); err != nil {
		return Identity{}, err
	}
	return id, nil
}

func (d *Dir) saveIdentity(id Identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return fmt.Errorf("encode identity: %w", err)
	}
	if err := d.write(IdentityFile, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save identity: %w", err)
	}
	return nil
}

// Credentials is what the agent needs to open a reporting session.
type Credentials struct {
	Identity Identity
	// Key is the device key, also the Certificate's PrivateKey.
	Key         devkey.Key
	Certificate tls.Certificate
	// CA is the pinned device CA the server's certificate must chain to.
	CA *x509.Certificate
	// AgentSecret is proved in every Hello; nil when the device was
	// enrolled before agent secrets.
	AgentSecret []byte
}

// LoadCredentials reads identity, key and certificates.
func (d *Dir) LoadCredentials() (Credentials, error) {
	id, err := d.LoadIdentity()
	if err != nil {
		return Credentials{}, err
	}
	key, err := d.LoadKey()
	if err != nil {
		return Credentials{}, err
	}
	cert, err := d.readCert(CertFile)
	if err != nil {
		return Credentials{}, fmt.Errorf("load device certificate: %w", err)
	}
	if !publicEqual(key.Public(), cert.PublicKey) {
		return Credentials{}, fmt.Errorf("load device certificate: not for the device key: %w", ErrCorrupt)
	}
	ca, err := d.readCert(CAFile)
	if err != nil {
		return Credentials{}, fmt.Errorf("load CA certificate: %w", err)
	}
	secret, err := d.read(AgentSecretFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		secret = nil
	case err != nil:
		return Credentials{}, fmt.Errorf("load agent secret: %w", err)
	case len(secret) != pb.AgentSecretSize:
		return Credentials{}, fmt.Errorf("load agent secret: %d bytes, not %d: %w", len(secret), pb.AgentSecretSize, ErrCorrupt)
	}
	return Credentials{
		AgentSecret: secret,
		Identity:    id,
		Key:         key,
		Certificate: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
		CA:          ca,
	}, nil
}

// SaveRenewedCertificate replaces the device certificate after a renewal.
// The certificate must be for the existing device key and chain to the
// pinned CA; identity.json's cert_sha256 is updated to match.
func (d *Dir) SaveRenewedCertificate(der []byte, now time.Time) error {
	creds, err := d.LoadCredentials()
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("renewed certificate: %w", err)
	}
	if !publicEqual(creds.Key.Public(), cert.PublicKey) {
		return errors.New("renewed certificate: not for the device key")
	}
	if cert.Subject.CommonName != creds.Identity.DeviceID {
		return fmt.Errorf("renewed certificate: issued to %q, not to this device", cert.Subject.CommonName)
	}
	roots := x509.NewCertPool()
	roots.AddCert(creds.CA)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("renewed certificate: %w", err)
	}
	if err := d.write(CertFile, pemCert(der), 0o644); err != nil {
		return fmt.Errorf("save renewed certificate: %w", err)
	}
	id := creds.Identity
	id.CertSHA256 = CertSHA256(der)
	return d.saveIdentity(id)
}
