package testserver

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeTB records failures and cleanups instead of acting on them, so that
// Start's failure paths can be observed. Fatal ends the calling goroutine
// as the real one does.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.Fatalf("%s", fmt.Sprint(args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	f.cleanups = append(f.cleanups, fn)
	f.mu.Unlock()
}

// run calls fn on a goroutine as a test body and then runs the cleanups
// it registered, last first.
func (f *fakeTB) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name      string
		opt       Options
		ctx       func() context.Context
		wantFatal string
	}{
		{
			name:      "a policy the server rejects fails the test without a cleanup that waits",
			opt:       Options{Policy: "controls: [not, a, map]\n"},
			wantFatal: "server exited before it was ready",
		},
		{
			name:      "a malformed trusted proxy fails the test",
			opt:       Options{TrustedProxies: []string{"not-a-cidr"}},
			wantFatal: "server exited before it was ready",
		},
		{
			name: "a context already over fails the test",
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantFatal: "server",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			f := &fakeTB{TB: t}
			var got *Server
			f.run(func() { got = Start(f, ctx, tt.opt) })
			if got != nil {
				t.Fatalf("Start returned a server for a failed start")
			}
			if !strings.Contains(f.fatal, tt.wantFatal) {
				t.Errorf("fatal %q, want it to contain %q", f.fatal, tt.wantFatal)
			}
		})
	}
}

func TestServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := Start(t, ctx, Options{Policy: "max_report_age: 15m\n"})
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")

	t.Run("an unknown device is denied as unknown", func(t *testing.T) {
		d := srv.Decision(t, key, "device_id=dev_unknown")
		if diff := cmp.Diff([]string{"device_unknown:"}, d.Codes()); d.Allow || diff != "" {
			t.Errorf("allow=%v, reasons (-want +got):\n%s", d.Allow, diff)
		}
	})

	t.Run("a command sees the server's data directory", func(t *testing.T) {
		out := srv.Cmd(t, "apikey", "list")
		if !strings.Contains(out, "gateway") {
			t.Errorf("apikey list: %q, want the key named gateway", out)
		}
	})

	t.Run("the client trusts the server's certificate and a request without a key is refused", func(t *testing.T) {
		resp, err := srv.Client().Get("https://" + srv.HTTPSAddr + "/v1/decision?device_id=dev_unknown")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("HTTP %d, want 401", resp.StatusCode)
		}
	})

	t.Run("stopping twice is harmless and the data directory restarts", func(t *testing.T) {
		srv.Stop()
		srv.Stop()
		again := Start(t, ctx, Options{DataDir: srv.DataDir})
		if d := again.Decision(t, key, "device_id=dev_unknown"); d.Allow {
			t.Errorf("after restart with the same key: got allow, want deny")
		}
	})
}

func TestSnapshot(t *testing.T) {
	h := Snapshot(t, "linux-compliant")
	if got := h.GOOS(); got != "linux" {
		t.Errorf("GOOS %q, want linux", got)
	}
}
