package pb

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
)

// AgentSecretSize is the length of a device's agent secret in bytes.
const AgentSecretSize = 32

// agentProofLabel is the TLS exporter label (RFC 8446 section 7.5) of
// the value an agent proof is bound to.
const agentProofLabel = "EXPORTER-postern-agent-secret"

// NewAgentSecret returns a fresh random agent secret.
func NewAgentSecret() ([]byte, error) {
	b := make([]byte, AgentSecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make agent secret: %w", err)
	}
	return b, nil
}

// AgentSecretHash is what the server stores of an agent secret: the
// lowercase hex SHA-256 of it, which is also the HMAC key of the proof.
// The secret itself is never stored by the server; whoever reads the
// hash from the database could forge proofs, but could as well write the
// device's posture there directly.
func AgentSecretHash(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// AgentProof is Hello.agent_proof: HMAC-SHA256, keyed with the agent
// secret's hash, over this TLS connection's exporter value. Both ends of
// one connection compute the same value; no other connection does, so a
// proof captured (by a program of the console user, say) cannot be
// replayed on a connection of its own.
func AgentProof(secret []byte, cs tls.ConnectionState) ([]byte, error) {
	if len(secret) != AgentSecretSize {
		return nil, fmt.Errorf("agent secret is %d bytes, not %d", len(secret), AgentSecretSize)
	}
	return agentProof(AgentSecretHash(secret), cs)
}

// VerifyAgentProof reports whether proof is the AgentProof, on the
// connection cs, of the secret whose AgentSecretHash is secretHash.
func VerifyAgentProof(secretHash string, proof []byte, cs tls.ConnectionState) bool {
	if secretHash == "" || len(proof) != sha256.Size {
		return false
	}
	want, err := agentProof(secretHash, cs)
	return err == nil && hmac.Equal(want, proof)
}

func agentProof(secretHash string, cs tls.ConnectionState) ([]byte, error) {
	key, err := hex.DecodeString(secretHash)
	if err != nil || len(key) != sha256.Size {
		return nil, errors.New("agent proof: malformed secret hash")
	}
	if !cs.HandshakeComplete {
		return nil, errors.New("agent proof: TLS handshake not complete")
	}
	ekm, err := cs.ExportKeyingMaterial(agentProofLabel, nil, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("agent proof: export keying material: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(ekm)
	return m.Sum(nil), nil
}
