package client

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
)

// Timeouts of the QUIC transport. The keep-alive holds NAT bindings open
// on home routers so that the server's commands reach an idle agent.
const (
	handshakeTimeout = 10 * time.Second
	idleTimeout      = 90 * time.Second
	keepAlive        = 25 * time.Second
)

func quicConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout: handshakeTimeout,
		MaxIdleTimeout:       idleTimeout,
		KeepAlivePeriod:      keepAlive,
		// The server never opens streams towards the agent.
		MaxIncomingStreams:    -1,
		MaxIncomingUniStreams: -1,
	}
}

// baseTLS is TLS 1.3 with the Postern ALPN. InsecureSkipVerify only turns
// off Go's default verification, which would check the host name; verify
// replaces it with chain-to-pinned-CA verification and is always run.
func baseTLS(addr string, verify func(tls.ConnectionState) error) *tls.Config {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{pb.ALPN},
		ServerName:         host,
		InsecureSkipVerify: true,
		VerifyConnection:   verify,
	}
}

// verifyPinned accepts the server only if it presents a CA certificate
// whose SHA-256 equals pin and its leaf chains to that CA for server
// authentication. It runs inside the handshake, before any byte of the
// enrollment token is written.
func verifyPinned(pin [sha256.Size]byte, now func() time.Time) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("server sent no certificate: %w", ErrPinMismatch)
		}
		var ca *x509.Certificate
		for _, c := range cs.PeerCertificates[1:] {
			sum := sha256.Sum256(c.Raw)
			if subtle.ConstantTimeCompare(sum[:], pin[:]) == 1 {
				ca = c
				break
			}
		}
		if ca == nil {
			return fmt.Errorf("server presented no CA certificate with the token's pin: %w", ErrPinMismatch)
		}
		if err := verifyLeaf(cs.PeerCertificates[0], ca, now()); err != nil {
			return fmt.Errorf("%w: %v", ErrPinMismatch, err)
		}
		return nil
	}
}

// verifyStored accepts the server only if its leaf chains to the CA saved
// at enrollment.
func verifyStored(ca *x509.Certificate, now func() time.Time) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("server sent no certificate: %w", ErrUntrustedServer)
		}
		if err := verifyLeaf(cs.PeerCertificates[0], ca, now()); err != nil {
			return fmt.Errorf("%w: %v", ErrUntrustedServer, err)
		}
		return nil
	}
}

func verifyLeaf(leaf, ca *x509.Certificate, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}
