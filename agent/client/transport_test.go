package client

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLink is a link that only knows its transport and whether it was
// closed.
type fakeLink struct {
	transport string
	closed    *atomic.Bool
}

func (l fakeLink) Read([]byte) (int, error)         { return 0, errors.New("fake") }
func (l fakeLink) Write(p []byte) (int, error)      { return len(p), nil }
func (l fakeLink) SetDeadline(time.Time) error      { return nil }
func (l fakeLink) SetWriteDeadline(time.Time) error { return nil }
func (l fakeLink) Abort()                           {}
func (l fakeLink) Close() error                     { l.closed.Store(true); return nil }
func (l fakeLink) Transport() string                { return l.transport }
func (l fakeLink) TLS() tls.ConnectionState         { return tls.ConnectionState{} }

type fakeDialer struct {
	name  string
	delay time.Duration // before the outcome; 0 answers at once
	err   error
	// stubborn connects even when its dial is cancelled, as a QUIC
	// handshake finishing at that instant would.
	stubborn bool
	started  atomic.Bool
	closed   atomic.Bool
}

func (d *fakeDialer) dial(ctx context.Context, _ string, _ *tls.Config) (link, error) {
	d.started.Store(true)
	select {
	case <-time.After(d.delay):
	case <-ctx.Done():
		if !d.stubborn {
			return nil, ctx.Err()
		}
		time.Sleep(d.delay)
	}
	if d.err != nil {
		return nil, d.err
	}
	return fakeLink{transport: d.name, closed: &d.closed}, nil
}

func TestDialFallback(t *testing.T) {
	const hang = time.Hour
	tests := []struct {
		name         string
		quic, tcp    *fakeDialer
		want         string
		wantErr      string
		wantTCPStart bool
	}{
		{"QUIC that answers is used and TCP never tried", &fakeDialer{name: "quic"}, &fakeDialer{name: "tcp"}, "quic", "", false},
		{"QUIC that gets no answer loses to TCP after the delay", &fakeDialer{name: "quic", delay: hang}, &fakeDialer{name: "tcp"}, "tcp", "", true},
		{"QUIC that fails at once starts TCP at once", &fakeDialer{name: "quic", err: errors.New("no route")}, &fakeDialer{name: "tcp"}, "tcp", "", true},
		{"both failing give both errors", &fakeDialer{name: "quic", err: errors.New("quic down")}, &fakeDialer{name: "tcp", err: errors.New("tcp down")}, "", "quic down\ntcp down", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved, savedDelay := dialers, fallbackDelay
			dialers, fallbackDelay = []func(context.Context, string, *tls.Config) (link, error){tt.quic.dial, tt.tcp.dial}, 20*time.Millisecond
			t.Cleanup(func() { dialers, fallbackDelay = saved, savedDelay })
			if tt.want == "quic" {
				fallbackDelay = hang // QUIC must win without TCP being tried
			}
			l, err := dial(context.Background(), "h:1", &tls.Config{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if l.Transport() != tt.want {
				t.Errorf("transport %q, want %q", l.Transport(), tt.want)
			}
			if tt.tcp.started.Load() != tt.wantTCPStart {
				t.Errorf("tcp started = %v", tt.tcp.started.Load())
			}
		})
	}
	t.Run("a transport that connects after losing the race is closed", func(t *testing.T) {
		quic := &fakeDialer{name: "quic", delay: 60 * time.Millisecond, stubborn: true}
		tcp := &fakeDialer{name: "tcp"}
		saved, savedDelay := dialers, fallbackDelay
		dialers, fallbackDelay = []func(context.Context, string, *tls.Config) (link, error){quic.dial, tcp.dial}, 10*time.Millisecond
		t.Cleanup(func() { dialers, fallbackDelay = saved, savedDelay })
		l, err := dial(context.Background(), "h:1", &tls.Config{})
		if err != nil || l.Transport() != "tcp" {
			t.Fatalf("got %v, %v", l, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !quic.closed.Load() {
			if time.Now().After(deadline) {
				t.Fatal("the late QUIC connection was left open")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
