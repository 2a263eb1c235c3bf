package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
)

// source is one simulated source address: a UDP socket bound to a
// loopback alias, shared by the agents behind it as by laptops behind
// one NAT address.
type source struct {
	udp *net.UDPConn
	tr  *quic.Transport
}

func newSource(ip net.IP) (*source, error) {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		return nil, fmt.Errorf("bind %s: %w", ip, err)
	}
	return &source{udp: udp, tr: &quic.Transport{Conn: udp}}, nil
}

func (s *source) close() {
	s.tr.Close()
	s.udp.Close()
}

// sourceIP is the n-th loopback alias, from 127.10.0.1 on.
func sourceIP(n int) net.IP { return net.IPv4(127, 10, byte(n/250), byte(n%250+1)) }

// The agent's transport settings (agent/client/tls.go).
func agentQUIC() *quic.Config {
	return &quic.Config{HandshakeIdleTimeout: 10 * time.Second, MaxIdleTimeout: 90 * time.Second,
		KeepAlivePeriod: 25 * time.Second, MaxIncomingStreams: -1, MaxIncomingUniStreams: -1}
}

// agent is one simulated device.
type agent struct {
	id     int
	src    *source
	addr   net.Addr
	roots  *x509.CertPool
	key    *ecdsa.PrivateKey
	cert   tls.Certificate
	device string // device ID
	// secret is the agent secret from enrollment, proved in each Hello.
	secret []byte

	conn *quic.Conn
	str  *quic.Stream
	acks chan *pb.Envelope
	seq  uint64
	// compliant is what the agent reported last.
	compliant bool
}

func (a *agent) tlsConfig() *tls.Config {
	tc := &tls.Config{RootCAs: a.roots, ServerName: "localhost", NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13}
	if a.cert.Certificate != nil {
		tc.Certificates = []tls.Certificate{a.cert}
	}
	return tc
}

// open dials and opens the stream, with the deadline of ctx.
func (a *agent) open(ctx context.Context) (*quic.Conn, *quic.Stream, error) {
	conn, err := a.src.tr.Dial(ctx, a.addr, a.tlsConfig(), agentQUIC())
	if err != nil {
		return nil, nil, err
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(0, "")
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		str.SetDeadline(dl)
	}
	return conn, str, nil
}

func hello() *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: "postern-load"}}}
}

// enroll makes the device key and enrolls with token, as the agent does.
func (a *agent) enroll(ctx context.Context, token string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "postern-agent"}}, key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, str, err := a.open(ctx)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	defer conn.CloseWithError(0, "")
	req := &pb.Envelope{Msg: &pb.Envelope_Enroll{Enroll: &pb.EnrollRequest{Token: token, CsrDer: csr,
		Device: &pb.DeviceInfo{Hostname: fmt.Sprintf("load-%05d", a.id), Os: "linux", OsName: "Debian GNU/Linux 12 (bookworm)", OsVersion: "12", Arch: "amd64"}}}}
	if err := pb.WriteMsg(str, hello()); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := pb.WriteMsg(str, req); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	for {
		env, err := pb.ReadMsg(str)
		if err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		switch m := env.Msg.(type) {
		case *pb.Envelope_Hello:
			continue
		case *pb.Envelope_Enrolled:
			a.key = key
			a.device = m.Enrolled.DeviceId
			a.cert = tls.Certificate{Certificate: [][]byte{m.Enrolled.CertificateDer}, PrivateKey: key}
			a.secret = m.Enrolled.AgentSecret
			return nil
		case *pb.Envelope_Error:
			return fmt.Errorf("enroll: %s: %s", m.Error.Code, m.Error.Message)
		default:
			return fmt.Errorf("enroll: unexpected %T", m)
		}
	}
}

// connect opens the control stream with the device certificate.
func (a *agent) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, str, err := a.open(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	h := hello()
	if a.secret != nil {
		if h.GetHello().AgentProof, err = pb.AgentProof(a.secret, conn.ConnectionState().TLS); err != nil {
			conn.CloseWithError(0, "")
			return fmt.Errorf("connect: %w", err)
		}
	}
	if err := pb.WriteMsg(str, h); err == nil {
		var env *pb.Envelope
		if env, err = pb.ReadMsg(str); err == nil && env.GetHello() == nil {
			err = fmt.Errorf("answer %v, want Hello", env)
		}
	}
	if err != nil {
		conn.CloseWithError(0, "")
		return fmt.Errorf("connect: %w", err)
	}
	str.SetDeadline(time.Time{})
	a.conn, a.str = conn, str
	a.acks = make(chan *pb.Envelope, 4)
	go a.readLoop(str, a.acks)
	return nil
}

// readLoop hands acks and errors to the reporter and drops commands
// (policy pushes), as the agent's runner would act on them.
func (a *agent) readLoop(str *quic.Stream, acks chan<- *pb.Envelope) {
	defer close(acks)
	for {
		env, err := pb.ReadMsg(str)
		if err != nil {
			return
		}
		if env.GetAck() != nil || env.GetError() != nil {
			acks <- env
		}
	}
}

func (a *agent) close() {
	if a.conn != nil {
		a.conn.CloseWithError(0, "")
		a.conn = nil
	}
}

// report sends the next report and waits for its ack; it returns the
// round trip.
func (a *agent) report(r *pb.Report, timeout time.Duration) (time.Duration, error) {
	a.seq++
	r.Sequence = a.seq
	t0 := time.Now() // wall clock: report round trip
	a.str.SetWriteDeadline(t0.Add(timeout))
	if err := pb.WriteMsg(a.str, &pb.Envelope{Msg: &pb.Envelope_Report{Report: r}}); err != nil {
		return 0, fmt.Errorf("send report: %w", err)
	}
	select {
	case env, ok := <-a.acks:
		if !ok {
			return 0, errors.New("the stream ended before the ack")
		}
		if e := env.GetError(); e != nil {
			return 0, fmt.Errorf("report refused: %s: %s", e.Code, e.Message)
		}
		if got := env.GetAck().GetSequence(); got != a.seq {
			return 0, fmt.Errorf("ack for %d, want %d", got, a.seq)
		}
		return time.Since(t0), nil // wall clock: report round trip
	case <-time.After(timeout):
		return 0, fmt.Errorf("no ack within %v: %w", timeout, os.ErrDeadlineExceeded)
	}
}

// failureKind sorts an error into the counters the report shows.
func failureKind(err error) string {
	var ie *quic.IdleTimeoutError
	var he *quic.HandshakeTimeoutError
	switch {
	case errors.As(err, &ie):
		return "idle_timeout"
	case errors.As(err, &he):
		return "handshake_timeout"
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "deadline exceeded"):
		return "deadline_exceeded"
	case strings.Contains(err.Error(), "refused"):
		return "refused"
	}
	return "other"
}

// failures counts failures by kind, keeping one example of each.
type failures struct {
	mu       sync.Mutex
	counts   map[string]int
	examples map[string]string
}

func (f *failures) add(err error) { f.addKind(failureKind(err), err) }

func (f *failures) addKind(k string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts, f.examples = map[string]int{}, map[string]string{}
	}
	f.counts[k]++
	if _, ok := f.examples[k]; !ok {
		f.examples[k] = err.Error()
	}
}

// isBusy says whether the server refused a connection for its limits
// (application error 1, or QUIC's CONNECTION_REFUSED).
func isBusy(err error) bool {
	var ae *quic.ApplicationError
	var te *quic.TransportError
	return (errors.As(err, &ae) && ae.ErrorCode == 1) || (errors.As(err, &te) && te.ErrorCode == quic.ConnectionRefused)
}

// jitter returns d scaled by a random factor in [1-j, 1+j].
func jitter(d time.Duration, j float64) time.Duration {
	return time.Duration(float64(d) * (1 - j + 2*j*mrand.Float64()))
}
