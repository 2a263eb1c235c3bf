package ingest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable clock shared by the server under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     testing.TB
	dir   string
	ca    *ca.CA
	store store.Store
	srv   *Server
	clock *testClock
}

// start runs a server on 127.0.0.1:0 over a fresh data dir (or dir, when
// set), stopped at cleanup.
func start(t testing.TB, dir string, tweak func(*Config)) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	clk := &testClock{t: clock.Now()}
	authority, err := ca.LoadOrCreate(dir, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := authority.ServerCertificate(dir, nil, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: "127.0.0.1:0", CA: authority, Cert: cert, Store: st, Policy: checks.DefaultPolicy(), Now: clk.Now, SoftwareVersion: "test"}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return &env{t: t, dir: dir, ca: authority, store: st, srv: srv, clock: clk}
}

func (e *env) token(ttl time.Duration) string {
	e.t.Helper()
	s, rec, err := store.NewEnrollToken(e.ca.Pin(), ttl, "clinic", "alice", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateToken(context.Background(), rec); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// dial connects to the server, presenting cert when it is not nil.
func (e *env) dial(cert *tls.Certificate) (*quic.Conn, error) {
	tc := &tls.Config{RootCAs: e.ca.Pool(), Time: clock.Now, ServerName: "localhost", NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return quic.DialAddr(ctx, e.srv.Addr().String(), tc, &quic.Config{MaxIdleTimeout: 30 * time.Second, KeepAlivePeriod: 10 * time.Second})
}

// client is one test agent's stream.
type client struct {
	t    testing.TB
	conn *quic.Conn
	str  *quic.Stream
}

func (e *env) open(cert *tls.Certificate) *client {
	e.t.Helper()
	conn, err := e.dial(cert)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.CloseWithError(0, "") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{t: e.t, conn: conn, str: str}
}

func (c *client) send(env *pb.Envelope) {
	c.t.Helper()
	if err := pb.WriteMsg(c.str, env); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) recv() (*pb.Envelope, error) {
	c.str.SetReadDeadline(time.Now().Add(10 * time.Second))
	return pb.ReadMsg(c.str)
}

func (c *client) mustRecv() *pb.Envelope {
	c.t.Helper()
	env, err := c.recv()
	if err != nil {
		c.t.Fatal(err)
	}
	return env
}

func (c *client) close() { c.conn.CloseWithError(0, "") }

func hello() *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion}}}
}

// device is an enrolled test agent's identity.
type device struct {
	id   string
	cert tls.Certificate
	// secret is the agent secret from the enrollment response.
	secret []byte
}

// helloOn is the device's Hello on the connection cs: the agent proof
// of its secret, none when it has no secret.
func (d device) helloOn(t testing.TB, cs tls.ConnectionState) *pb.Envelope {
	t.Helper()
	env := hello()
	if d.secret != nil {
		proof, err := pb.AgentProof(d.secret, cs)
		if err != nil {
			t.Fatal(err)
		}
		env.GetHello().AgentProof = proof
	}
	return env
}

func newCSR(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "agent"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, csr
}

func enrollRequest(token string, csr []byte) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Enroll{Enroll: &pb.EnrollRequest{Token: token, CsrDer: csr,
		Device: &pb.DeviceInfo{Hostname: "laptop-1", Os: "windows", OsName: "Windows 11 Pro", OsVersion: "10.0.26100", Arch: "amd64"}}}}
}

// tryEnroll runs the enrollment exchange and returns the server's answer.
func (e *env) tryEnroll(token string) (*pb.Envelope, *ecdsa.PrivateKey) {
	e.t.Helper()
	c := e.open(nil)
	defer c.close()
	key, csr := newCSR(e.t)
	c.send(hello())
	c.send(enrollRequest(token, csr))
	if h := c.mustRecv(); h.GetHello() == nil {
		e.t.Fatalf("first answer %v, want Hello", h)
	}
	return c.mustRecv(), key
}

// enroll enrolls a new device through the protocol.
func (e *env) enroll() device {
	e.t.Helper()
	resp, key := e.tryEnroll(e.token(time.Hour))
	got := resp.GetEnrolled()
	if got == nil {
		e.t.Fatalf("enroll answer %v", resp)
	}
	return device{id: got.DeviceId, cert: tls.Certificate{Certificate: [][]byte{got.CertificateDer}, PrivateKey: key}, secret: got.AgentSecret}
}

// control opens a control stream and completes the Hello exchange.
func (e *env) control(d device) *client {
	e.t.Helper()
	c := e.open(&d.cert)
	c.send(d.helloOn(e.t, c.conn.ConnectionState().TLS))
	if h := c.mustRecv(); h.GetHello() == nil {
		e.t.Fatalf("control answer %v, want Hello", h)
	}
	return c
}

func wireReport(seq uint64, hostname string) *pb.Envelope {
	r := &checks.Report{Device: checks.Device{Hostname: hostname, OS: "linux"}, CollectedAt: clock.Now().UTC()}
	for _, id := range checks.AllControlIDs {
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(`{"enabled":true}`)})
	}
	return &pb.Envelope{Msg: &pb.Envelope_Report{Report: checks.ToWire(r, seq)}}
}

// report sends a report and returns the answer.
func (c *client) report(env *pb.Envelope) *pb.Envelope {
	c.t.Helper()
	c.send(env)
	return c.mustRecv()
}

func isStreamOrConnError(err error) bool {
	var se *quic.StreamError
	var ae *quic.ApplicationError
	var te *quic.TransportError
	return errors.As(err, &se) || errors.As(err, &ae) || errors.As(err, &te)
}

func cloneReport(env *pb.Envelope, seq uint64) *pb.Envelope {
	r := proto.Clone(env.GetReport()).(*pb.Report)
	r.Sequence = seq
	return &pb.Envelope{Msg: &pb.Envelope_Report{Report: r}}
}
