package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// Loopback aliases the attacks come from: on Linux all of 127.0.0.0/8
// reaches lo, so a socket can be bound to any of them without setup.
const (
	attackerAddr = "127.0.0.8"
	neighborAddr = "127.0.0.9"
)

// flood holds idle connections to a server from one source address, as an
// attacker would: QUIC connections that finish the handshake without a
// certificate and never open a stream, and TCP sockets that never send a
// byte. A slot whose connection is closed or refused dials again, until
// stop.
type flood struct {
	quicSlots, tcpSlots int
	from                string

	tr      *quic.Transport
	udp     *net.UDPConn
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	dials   atomic.Int64 // connection attempts
	held    atomic.Int64 // connections established (QUIC handshakes done, TCP connects)
	refused atomic.Int64 // QUIC attempts refused or failed
}

func startFlood(t testing.TB, e *env, tcpAddr net.Addr, from string, quicSlots, tcpSlots int) *flood {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	f := &flood{quicSlots: quicSlots, tcpSlots: tcpSlots, from: from, udp: udp, tr: &quic.Transport{Conn: udp}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	tc := &tls.Config{RootCAs: e.ca.Pool(), Time: clock.Now, ServerName: "localhost", NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13}
	qc := &quic.Config{KeepAlivePeriod: time.Second, MaxIdleTimeout: 30 * time.Second, HandshakeIdleTimeout: 5 * time.Second}
	// Bounded attempts in flight, as one attacking process would have.
	sem := make(chan struct{}, 128)
	for range quicSlots {
		f.wg.Go(func() {
			for f.ctx.Err() == nil {
				sem <- struct{}{}
				f.dials.Add(1)
				conn, err := f.tr.Dial(f.ctx, e.srv.Addr(), tc.Clone(), qc)
				<-sem
				if err != nil {
					f.refused.Add(1)
					pause(f.ctx, 50*time.Millisecond)
					continue
				}
				f.held.Add(1)
				select {
				case <-conn.Context().Done():
				case <-f.ctx.Done():
					conn.CloseWithError(0, "")
				}
			}
		})
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	for range tcpSlots {
		f.wg.Go(func() {
			buf := make([]byte, 1)
			for f.ctx.Err() == nil {
				sem <- struct{}{}
				f.dials.Add(1)
				c, err := d.DialContext(f.ctx, "tcp", tcpAddr.String())
				<-sem
				if err != nil {
					f.refused.Add(1)
					pause(f.ctx, 50*time.Millisecond)
					continue
				}
				f.held.Add(1)
				stop := context.AfterFunc(f.ctx, func() { c.Close() })
				c.Read(buf) // returns when the server closes it
				stop()
				c.Close()
				pause(f.ctx, 50*time.Millisecond)
			}
		})
	}
	t.Cleanup(f.stop)
	return f
}

func (f *flood) stop() {
	f.cancel()
	f.wg.Wait()
	f.tr.Close()
	f.udp.Close()
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting until %s", what)
}

// dialTCPFrom is dialTCP from a chosen loopback alias.
func dialTCPFrom(t *testing.T, e *env, addr net.Addr, from string, cert *tls.Certificate) (*tcpClient, error) {
	tc := &tls.Config{RootCAs: e.ca.Pool(), Time: clock.Now, ServerName: "localhost", NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := tls.DialWithDialer(d, "tcp", addr.String(), tc)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &tcpClient{t: t, c: c}, nil
}

func TestSourceKey(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string
	}{
		{"a UDP IPv4 address is its own key", &net.UDPAddr{IP: net.ParseIP("127.0.0.8"), Port: 1}, "127.0.0.8/32"},
		{"a TCP IPv4 address is its own key, like UDP's", &net.TCPAddr{IP: net.ParseIP("127.0.0.8"), Port: 2}, "127.0.0.8/32"},
		{"a TCP IPv4-mapped IPv6 address is the IPv4 address", &net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 2}, "10.1.2.3/32"},
		{"an IPv6 address is keyed by its /64", &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 3}, "2001:db8:1:2::/64"},
		{"another kind of address is parsed from its string", fakeAddr("192.0.2.7:99"), "192.0.2.7/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sourceKey(tt.addr); got != netip.MustParsePrefix(tt.want) {
				t.Errorf("sourceKey(%v) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	t.Run("two TCP addresses are two keys", func(t *testing.T) {
		a := sourceKey(&net.TCPAddr{IP: net.ParseIP("127.0.0.8")})
		b := sourceKey(&net.TCPAddr{IP: net.ParseIP("127.0.0.9")})
		if a == b {
			t.Errorf("127.0.0.8 and 127.0.0.9 share the key %v", a)
		}
	})
}

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

// TestTCPEnrollmentFloodFromOneAddress is the attack of issue 16: bad
// tokens over TLS over TCP from one address must not lock out a good
// enrollment over TCP from another.
func TestTCPEnrollmentFloodFromOneAddress(t *testing.T) {
	e := start(t, "", func(c *Config) { c.EnrollFailures = 3; c.EnrollFailureTick = time.Hour })
	addr := startTCP(t, e)
	enrollTCP := func(from, token string) *pb.Envelope {
		c, err := dialTCPFrom(t, e, addr, from, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, csr := newCSR(t)
		if h := c.roundTrip(hello(), enrollRequest(token, csr)); h.GetHello() == nil {
			t.Fatalf("first answer %v, want Hello", h)
		}
		env := c.roundTrip()
		c.c.Close()
		return env
	}
	bad := e.token(time.Hour) + "x"
	for i := range 10 {
		got := enrollTCP(attackerAddr, bad).GetError().GetCode()
		if want := CodeTokenInvalid; i >= 3 {
			want = CodeRateLimited
			if got != want {
				t.Fatalf("bad enrollment %d from the attacker: %q, want %q", i+1, got, want)
			}
		} else if got != want {
			t.Fatalf("bad enrollment %d from the attacker: %q, want %q", i+1, got, want)
		}
	}
	t.Run("a good token from another address enrolls over TCP", func(t *testing.T) {
		env := enrollTCP(neighborAddr, e.token(time.Hour))
		if env.GetEnrolled() == nil {
			t.Fatalf("enrollment from %s: %v", neighborAddr, env)
		}
	})
	t.Run("the attacker's address is still limited", func(t *testing.T) {
		if got := enrollTCP(attackerAddr, e.token(time.Hour)).GetError().GetCode(); got != CodeRateLimited {
			t.Errorf("good token from the attacker: %q, want %q", got, CodeRateLimited)
		}
	})
}

// TestIdleFloodFromOneAddress holds idle QUIC connections and idle TCP
// sockets from one address while enrolled agents (from another) connect,
// report and enroll. The full size of issue 16 (10,000 + 10,000 with 100
// agents, latency compared) is BenchmarkReportUnderFlood; this is the same
// attack at a size a test run affords.
func TestIdleFloodFromOneAddress(t *testing.T) {
	e := start(t, "", func(c *Config) {
		c.MaxConnsPerSource = 200
		c.FirstStreamTimeout = 300 * time.Millisecond
	})
	addr := startTCP(t, e)
	devices := []device{e.enroll(), e.enroll(), e.enroll()}
	f := startFlood(t, e, addr, attackerAddr, 400, 400)
	waitFor(t, "the flood has made 1,000 attempts and some were refused", func() bool { return f.dials.Load() >= 1000 && f.refused.Load() > 0 })

	t.Run("the attacker holds no more than its address's allowance", func(t *testing.T) {
		h, authed, enroll := e.srv.admit.counts()
		if h > DefaultMaxHandshakesPerSource || enroll > DefaultMaxEnrollConnsPerSource || authed != 0 {
			t.Errorf("handshakes %d (max %d), enrollment connections %d (max %d), authenticated %d (want 0)",
				h, DefaultMaxHandshakesPerSource, enroll, DefaultMaxEnrollConnsPerSource, authed)
		}
		if f.refused.Load() == 0 {
			t.Error("no flood connection was refused")
		}
	})
	t.Run("enrolled agents connect and report over QUIC and TCP", func(t *testing.T) {
		for i, d := range devices {
			c := e.control(d)
			if ack := c.report(wireReport(1, "laptop")); ack.GetAck() == nil {
				t.Errorf("device %d over QUIC: %v", i, ack)
			}
			c.close()
			tc, err := dialTCP(t, e, addr, &d.cert, pb.ALPN)
			if err != nil {
				t.Fatalf("device %d over TCP: %v", i, err)
			}
			tc.roundTrip(d.helloOn(t, tc.c.ConnectionState()))
			if ack := tc.roundTrip(wireReport(2, "laptop")); ack.GetAck() == nil {
				t.Errorf("device %d over TCP: %v", i, ack)
			}
			tc.c.Close()
		}
	})
	t.Run("a new device enrolls from another address", func(t *testing.T) {
		if got := e.enroll(); got.id == "" {
			t.Error("no device ID")
		}
	})
	t.Run("an idle QUIC connection is closed when it opens no stream", func(t *testing.T) {
		conn, err := e.dial(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		select {
		case <-conn.Context().Done():
		case <-time.After(30 * time.Second):
			t.Fatal("the idle connection is still open")
		}
		var ae *quic.ApplicationError
		if err := context.Cause(conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != codeIdle {
			t.Errorf("closed with %v, want application error %d", err, codeIdle)
		}
	})
	f.stop()
	// Handshakes the flood abandoned end at QUIC's handshake timeout;
	// every established connection is released at once.
	waitFor(t, "every established flood connection is released", func() bool {
		_, authed, enroll := e.srv.admit.counts()
		return authed == 0 && enroll == 0
	})
}

// TestUnauthenticatedPoolNeverStarvesDevices fills the enrollment pool from
// many addresses; enrolled devices still get their own pool.
func TestUnauthenticatedPoolNeverStarvesDevices(t *testing.T) {
	e := start(t, "", func(c *Config) {
		c.MaxConns = 3
		c.MaxEnrollConns = 4
		c.FirstStreamTimeout = time.Minute
	})
	d := e.enroll()
	var held []*quic.Conn
	for i := range 8 {
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 1, byte(10+i))})
		if err != nil {
			t.Fatal(err)
		}
		tr := &quic.Transport{Conn: udp}
		t.Cleanup(func() { tr.Close(); udp.Close() })
		tc := &tls.Config{RootCAs: e.ca.Pool(), Time: clock.Now, ServerName: "localhost", NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := tr.Dial(ctx, e.srv.Addr(), tc, &quic.Config{MaxIdleTimeout: 30 * time.Second})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}
	waitFor(t, "the enrollment pool is full and the rest closed", func() bool {
		open := 0
		for _, c := range held {
			if c.Context().Err() == nil {
				open++
			}
		}
		_, _, enroll := e.srv.admit.counts()
		return enroll == 4 && open == 4
	})
	t.Run("an enrolled device still connects and reports", func(t *testing.T) {
		c := e.control(d)
		defer c.close()
		if ack := c.report(wireReport(1, "laptop")); ack.GetAck() == nil {
			t.Errorf("report: %v", ack)
		}
	})
	for _, c := range held {
		c.CloseWithError(0, "")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkReportUnderFlood is issue 16's flood at full size: N agents
// (POSTERN_BENCH_AGENTS, default 100) report at the steady rate
// (POSTERN_BENCH_RATE) first unloaded, then while one address
// (127.0.0.8) tries to hold POSTERN_FLOOD_QUIC idle QUIC connections and
// POSTERN_FLOOD_TCP idle TCP sockets (10,000 each by default), redialling
// whatever the server closes. Compare the two p99_ms figures:
//
//	go test -run x -bench ReportUnderFlood -benchtime 10x ./server/ingest/
func BenchmarkReportUnderFlood(b *testing.B) {
	n := envInt("POSTERN_BENCH_AGENTS", 100)
	quicSlots, tcpSlots := envInt("POSTERN_FLOOD_QUIC", 10_000), envInt("POSTERN_FLOOD_TCP", 10_000)
	e := start(b, "", func(c *Config) { c.MaxConns = n + 10 })
	addr := startTCP(b, e)
	fleet := connectFleet(b, e, n)
	defer func() {
		for _, a := range fleet {
			a.c.close()
		}
	}()
	b.Run("unloaded", func(b *testing.B) { benchSteady(b, fleet, steadyRate()) })
	f := startFlood(b, e, addr, attackerAddr, quicSlots, tcpSlots)
	defer f.stop()
	// Every slot has tried at least once before the flooded run.
	for f.dials.Load() < int64(quicSlots+tcpSlots) {
		time.Sleep(100 * time.Millisecond)
	}
	b.Run("flooded", func(b *testing.B) {
		d0, r0 := f.dials.Load(), f.refused.Load()
		benchSteady(b, fleet, steadyRate())
		b.ReportMetric(float64(f.dials.Load()-d0)/b.Elapsed().Seconds(), "flood_dials/s")
		b.ReportMetric(float64(f.refused.Load()-r0)/b.Elapsed().Seconds(), "flood_refused/s")
		h, authed, enroll := e.srv.admit.counts()
		b.ReportMetric(float64(h+authed+enroll-n), "flood_conns_held")
	})
}
