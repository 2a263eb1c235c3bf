package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Flood limits. A connection is admitted in two steps, on QUIC and on the
// TCP fallback alike: when its first packet (or TCP accept) arrives, its
// source address must be under MaxConnsPerSource connections and
// MaxHandshakesPerSource handshakes in flight; when the TLS handshake ends,
// it joins one of two pools — devices that presented a certificate
// (MaxConns) or unauthenticated connections, which can only enroll
// (MaxEnrollConns, MaxEnrollConnsPerSource, and at most enrollConnLifetime
// each). So unauthenticated floods from anywhere can never take an
// enrolled device's slot, and one address cannot take everyone's.
const (
	// DefaultMaxConnsPerSource leaves room for a clinic's laptops behind
	// one NAT address.
	DefaultMaxConnsPerSource       = 1_000
	DefaultMaxHandshakesPerSource  = 32
	DefaultMaxEnrollConns          = 500
	DefaultMaxEnrollConnsPerSource = 32

	// defaultFirstStreamTimeout bounds the wait between the end of the handshake
	// and the first stream (QUIC) or first message (TCP): agents open
	// their stream at once.
	defaultFirstStreamTimeout = 5 * time.Second
	// enrollConnLifetime bounds an unauthenticated connection: Hello,
	// EnrollRequest and the answer fit well within it.
	enrollConnLifetime = helloTimeout + enrollTimeout + writeTimeout
	// retryHandshakes is the number of handshakes in flight, server-wide,
	// past which QUIC clients must prove their address (a Retry round
	// trip) before they count against it; spoofed sources then cannot
	// fill another address's allowance.
	retryHandshakes = 256
)

// Reasons a connection is refused, as logged.
const (
	refusedSourceConns      = "too_many_connections_from_source"
	refusedSourceHandshakes = "too_many_handshakes_from_source"
	refusedConns            = "too_many_connections"
	refusedEnrollConns      = "too_many_enrollment_connections"
	refusedSourceEnroll     = "too_many_enrollment_connections_from_source"
	refusedClosed           = "server_closed"
)

// errRefused is returned to quic-go, which answers CONNECTION_REFUSED.
var errRefused = errors.New("connection refused")

type limits struct {
	conns, enroll                                   int
	perSource, handshakesPerSource, enrollPerSource int
}

// admission counts connections per source and per pool.
type admission struct {
	lim limits
	log *refusalLog

	mu         sync.Mutex
	sources    map[netip.Prefix]*sourceCount
	handshakes int
	authed     int
	enroll     int
	closed     bool
}

type sourceCount struct{ conns, handshakes, enroll int }

func newAdmission(lim limits, log *slog.Logger) *admission {
	return &admission{lim: lim, log: &refusalLog{log: log}, sources: map[netip.Prefix]*sourceCount{}}
}

// ticket is one admitted connection's place; release gives it back.
type ticket struct {
	a   *admission
	src netip.Prefix
	// state: handshaking until established, then authed or enrolling.
	state    int
	released bool
}

const (
	stateHandshake = iota
	stateAuthed
	stateEnroll
	// stateRefused holds only its place in the source's count.
	stateRefused
)

// begin admits a new connection from addr for its handshake.
func (a *admission) begin(addr net.Addr) (*ticket, error) {
	src := sourceKey(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	reason := ""
	sc := a.sources[src]
	switch {
	case a.closed:
		reason = refusedClosed
	case sc != nil && sc.conns >= a.lim.perSource:
		reason = refusedSourceConns
	case sc != nil && sc.handshakes >= a.lim.handshakesPerSource:
		reason = refusedSourceHandshakes
	}
	if reason != "" {
		a.log.refused(reason, src)
		return nil, errRefused
	}
	if sc == nil {
		sc = &sourceCount{}
		a.sources[src] = sc
	}
	sc.conns++
	sc.handshakes++
	a.handshakes++
	return &ticket{a: a, src: src}, nil
}

// needsRetry says whether a QUIC client from addr must first prove it
// owns the address (Transport.VerifySourceAddress).
func (a *admission) needsRetry(addr net.Addr) bool {
	src := sourceKey(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.handshakes >= retryHandshakes {
		return true
	}
	sc := a.sources[src]
	return sc != nil && sc.handshakes >= a.lim.handshakesPerSource/2
}

// established moves a connection whose handshake ended into the pool of
// authenticated devices or of enrollments; it returns false, and the
// caller closes the connection, when that pool is full.
func (t *ticket) established(authenticated bool) bool {
	a := t.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.released || t.state != stateHandshake {
		return !t.released
	}
	sc := a.sources[t.src]
	sc.handshakes--
	a.handshakes--
	reason := ""
	switch {
	case a.closed:
		reason = refusedClosed
	case authenticated && a.authed >= a.lim.conns:
		reason = refusedConns
	case !authenticated && a.enroll >= a.lim.enroll:
		reason = refusedEnrollConns
	case !authenticated && sc.enroll >= a.lim.enrollPerSource:
		reason = refusedSourceEnroll
	}
	if reason != "" {
		a.log.refused(reason, t.src)
		t.state = stateRefused
		t.releaseLocked()
		return false
	}
	if authenticated {
		t.state = stateAuthed
		a.authed++
	} else {
		t.state = stateEnroll
		sc.enroll++
		a.enroll++
	}
	return true
}

// release gives the connection's place back; it may be called more than
// once.
func (t *ticket) release() {
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	t.releaseLocked()
}

func (t *ticket) releaseLocked() {
	if t.released {
		return
	}
	t.released = true
	a := t.a
	sc := a.sources[t.src]
	switch t.state {
	case stateHandshake:
		sc.handshakes--
		a.handshakes--
	case stateAuthed:
		a.authed--
	case stateEnroll:
		sc.enroll--
		a.enroll--
	}
	sc.conns--
	if sc.conns == 0 {
		delete(a.sources, t.src)
	}
}

// close refuses every connection from now on.
func (a *admission) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}

// counts returns the connections in each pool, for tests and metrics.
func (a *admission) counts() (handshakes, authed, enroll int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.handshakes, a.authed, a.enroll
}

type ticketKey struct{}

// quicConnContext admits a QUIC connection at its first packet and gives
// its place back when the connection (or its handshake) ends.
func (s *Server) quicConnContext(ctx context.Context, addr net.Addr) (context.Context, error) {
	t, err := s.admit.begin(addr)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, t.release)
	return context.WithValue(ctx, ticketKey{}, t), nil
}

func ticketOf(ctx context.Context) *ticket {
	t, _ := ctx.Value(ticketKey{}).(*ticket)
	return t
}

// sourceKey is the key of a peer for connection and enrollment limits:
// its IPv4 address, or the /64 of its IPv6 address (one host usually owns
// a whole /64). It understands every address type a listener hands out,
// UDP and TCP alike, so the fallback is limited per address as QUIC is.
func sourceKey(a net.Addr) netip.Prefix {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	p, _ := ip.Prefix(ip.BitLen())
	return p
}

// refusalLog logs refused connections without letting a flood flood the
// log: the first refusal of a burst at once, then one summary every
// refusalLogEvery with how many were refused since.
type refusalLog struct {
	log *slog.Logger

	mu     sync.Mutex
	last   time.Time
	counts map[string]int
}

const refusalLogEvery = 10 * time.Second

func (r *refusalLog) refused(reason string, src netip.Prefix) {
	if r.log == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now() // wall clock: spaces log lines in this process
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[reason]++
	if now.Sub(r.last) < refusalLogEvery {
		return
	}
	r.last = now
	for reason, n := range r.counts {
		r.log.Warn("connections refused", "reason", reason, "count", n, "last_source", src.String())
	}
	clear(r.counts)
}
