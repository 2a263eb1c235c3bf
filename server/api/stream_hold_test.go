package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/metrics"
)

// streamTimes are the durations a held stream runs under.
type streamTimes struct {
	// read and write are the server-wide timeouts (http.Server), perWrite
	// the stream's own deadline for one write, heartbeat its keep-alive
	// interval, hold how long the test keeps the stream open and quiet the
	// longest silence between two decision changes.
	read, write, perWrite, heartbeat, hold, quiet time.Duration
}

// productionTimes are serve's durations: NewServer's timeouts,
// DefaultStreamWriteTimeout and DefaultHeartbeat, held for 5 minutes.
var productionTimes = streamTimes{read: 10 * time.Second, write: 15 * time.Second, perWrite: DefaultStreamWriteTimeout,
	heartbeat: DefaultHeartbeat, hold: 5 * time.Minute, quiet: 40 * time.Second}

// scaledTimes are productionTimes at 1/50: every ratio between the
// timeouts, the heartbeat and the 5-minute hold is the same (the hold is
// 20 server write timeouts, 30 stream write deadlines, 20 heartbeats), so
// a stream that survives them survives production's, without a
// 5-minute test or one that depends on how fast this machine is: nothing
// here waits for a deadline to pass except the ones under test, which
// are 200 ms and more.
var scaledTimes = streamTimes{read: 200 * time.Millisecond, write: 300 * time.Millisecond, perWrite: 200 * time.Millisecond,
	heartbeat: 300 * time.Millisecond, hold: 6 * time.Second, quiet: 800 * time.Millisecond}

// TestEventStreamStaysOpen holds one /v1/events stream through a real TLS
// server over HTTP/1.1 and over HTTP/2 while decisions keep changing,
// with silences longer than every timeout between them, and expects
// every event in order on the one connection it opened. The durations are
// production's scaled down (scaledTimes); POSTERN_LONG_STREAM=1 runs the
// real 5 minutes under production's durations.
func TestEventStreamStaysOpen(t *testing.T) {
	times := scaledTimes
	if os.Getenv("POSTERN_LONG_STREAM") != "" {
		times = productionTimes
	}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run("a stream over "+proto+" receives every change in order without reconnecting", func(t *testing.T) {
			t.Parallel()
			bus := events.NewBus(nil)
			f := newFixtureWith(t, "", func(c *Config) {
				c.Events, c.Heartbeat, c.StreamWriteTimeout = bus, times.heartbeat, times.perWrite
			})
			srv, url, roots := startTLS(t, f.h, times)
			var conns atomic.Int32
			srv.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), times.hold+time.Minute)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+f.key)
			resp, err := clientFor(roots, proto).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Proto != proto {
				t.Fatalf("status %d over %s, want 200 over %s", resp.StatusCode, resp.Proto, proto)
			}
			r := &sseReader{t: t, sc: bufio.NewScanner(resp.Body)}

			// The publisher changes a decision in bursts separated by
			// silences up to times.quiet (longer than the write timeouts),
			// until the hold is over.
			published := make(chan uint64, 1)
			go func() {
				var n uint64
				deadline := time.Now().Add(times.hold)
				for i := 0; time.Now().Before(deadline); i++ {
					for range 1 + i%4 {
						n++
						bus.Publish(flip(fmt.Sprintf("dev-%d", n), n%2 == 0, t0))
					}
					pause := times.quiet * time.Duration(i%5) / 4
					select {
					case <-time.After(pause):
					case <-ctx.Done():
					}
				}
				published <- n
			}()
			received := make(chan sseEvent)
			go func() {
				defer close(received)
				for {
					e, ok := r.next()
					if !ok {
						return
					}
					received <- e
				}
			}()
			var got uint64
			total := ^uint64(0)
			for got < total {
				select {
				case total = <-published:
					continue
				case e, ok := <-received:
					if !ok {
						t.Fatalf("the stream ended after %d events: %v", got, ctx.Err())
					}
					if want := strconv.FormatUint(got+1, 10); e.ID != want || e.Data.DeviceID != "dev-"+want {
						t.Fatalf("event %q for %q, want %s in order", e.ID, e.Data.DeviceID, want)
					}
					got++
				}
			}
			cancel()
			for range received {
			}
			if !contains(r.comments, "heartbeat") {
				t.Error("the quiet stream carried no heartbeat")
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("the client opened %d connections, want 1", n)
			}
		})
	}
}

// TestStuckEventReaderIsDropped opens a stream and never reads it while
// changes pile up: the server must end it within its bounds, say so in a
// log line and count it, and keep serving everyone else.
func TestStuckEventReaderIsDropped(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run("a reader over "+proto+" that stops reading is dropped, logged and counted", func(t *testing.T) {
			t.Parallel()
			bus := events.NewBus(nil)
			mets := metrics.New()
			var logs syncBuffer
			f := newFixtureWith(t, "", func(c *Config) {
				c.Events, c.Heartbeat, c.StreamWriteTimeout, c.Metrics = bus, time.Hour, 200*time.Millisecond, mets
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			_, url, roots := startTLS(t, f.h, scaledTimes)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+f.key)
			resp, err := clientFor(roots, proto).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// Long reasons fill the socket buffers and flow-control
			// windows before the bus's buffer: either bound may end it.
			long := strings.Repeat("x", 4000)
			for i := 0; dropped(t, mets) == 0 && ctx.Err() == nil; i++ {
				e := flip("dev", i%2 == 0, t0)
				e.ReasonAdmin = long
				bus.Publish(e)
				if i%64 == 63 {
					time.Sleep(10 * time.Millisecond)
				}
			}
			if n := dropped(t, mets); n != 1 {
				t.Fatalf("drops counted: %v, want 1; log:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), "event stream client dropped") {
				t.Errorf("no log line says the client was dropped:\n%s", logs.String())
			}
		})
	}
}

// dropped sums postern_event_stream_drops_total over its reasons.
func dropped(t *testing.T, m *metrics.Metrics) float64 {
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range fams {
		if f.GetName() == "postern_event_stream_drops_total" {
			for _, s := range f.GetMetric() {
				n += s.GetCounter().GetValue()
			}
		}
	}
	return n
}

// startTLS serves h over TLS (HTTP/1.1 and HTTP/2) from NewServer with
// its timeouts replaced by times'.
func startTLS(t *testing.T, h http.Handler, times streamTimes) (*http.Server, string, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	authority, err := ca.LoadOrCreate(dir, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := authority.ServerCertificate(dir, nil, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("127.0.0.1:0", h, cert, discardLogger())
	srv.ReadTimeout, srv.WriteTimeout = times.read, times.write
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(authority.Certificate())
	return srv, "https://" + ln.Addr().String(), roots
}

func clientFor(roots *x509.CertPool, proto string) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", Time: clock.Now}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(proto == "HTTP/1.1")
	tr.Protocols.SetHTTP2(proto == "HTTP/2.0")
	return &http.Client{Transport: tr}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
