package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"go.uber.org/goleak"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var serial int64

func nextSerial() *big.Int { serial++; return big.NewInt(serial) }

// testPKI is a device CA as the server would hold it.
type testPKI struct {
	ca  *x509.Certificate
	key *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "test device CA"},
		NotBefore: clock.Now().Add(-time.Hour), NotAfter: clock.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &testPKI{ca: ca, key: key}
}

func (p *testPKI) issue(t *testing.T, pub any, cn string, eku x509.ExtKeyUsage) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: clock.Now().Add(-time.Hour), NotAfter: clock.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, pub, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// serverCert returns a server certificate, with the CA in its chain when
// withCA is set (as the enrollment pin requires).
func (p *testPKI) serverCert(t *testing.T, withCA bool) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	chain := [][]byte{p.issue(t, &key.PublicKey, "postern-server", x509.ExtKeyUsageServerAuth)}
	if withCA {
		chain = append(chain, p.ca.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key}
}

func (p *testPKI) token() string {
	return pb.EnrollToken{Secret: make([]byte, 32), CAPin: sha256.Sum256(p.ca.Raw)}.String()
}

// deviceCert makes a device key and its certificate issued by p.
func (p *testPKI) deviceCert(t *testing.T, cn string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der := p.issue(t, &key.PublicKey, cn, x509.ExtKeyUsageClientAuth)
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// responder is a minimal in-test QUIC server: it accepts connections and
// hands every stream to handle, recording the client certificate seen.
type responder struct {
	addr    string
	mu      sync.Mutex
	streams int
	peers   []*x509.Certificate
}

func startResponder(t *testing.T, cert tls.Certificate, clientCA *x509.Certificate, handle func(str *quic.Stream)) *responder {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(clientCA)
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// An own Transport, closed at cleanup, ends connections whose handshake
	// the client aborted; the listener alone would keep them draining.
	tr := &quic.Transport{Conn: udp}
	ln, err := tr.Listen(&tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{pb.ALPN},
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool, Time: clock.Now,
	}, &quic.Config{HandshakeIdleTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{addr: ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.CloseWithError(0, "")
				str, err := conn.AcceptStream(ctx)
				if err != nil {
					return
				}
				r.mu.Lock()
				r.streams++
				r.peers = append(r.peers, conn.ConnectionState().TLS.PeerCertificates...)
				r.mu.Unlock()
				handle(str)
				_ = str.Close()
				// Let the client read what was written before the close.
				select {
				case <-conn.Context().Done():
				case <-time.After(2 * time.Second):
				case <-ctx.Done():
				}
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = ln.Close()
		wg.Wait()
		_ = tr.Close()
		_ = udp.Close()
	})
	return r
}

func (r *responder) streamCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.streams
}

func send(t *testing.T, str *quic.Stream, env *pb.Envelope) {
	if err := pb.WriteMsg(str, env); err != nil {
		t.Errorf("responder write: %v", err)
	}
}

func hello() *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion}}}
}

func errEnv(code string, seq uint64) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Error{Error: &pb.Error{Code: code, Sequence: seq}}}
}

func ackEnv(seq uint64, dup bool) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Ack{Ack: &pb.Ack{Sequence: seq, Duplicate: dup}}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
