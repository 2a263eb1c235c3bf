package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
)

func TestRefusals(t *testing.T) {
	t.Run("a handshake refusal stops the daemon only when it repeats, then it neither dials nor spools", func(t *testing.T) {
		dir := t.TempDir()
		var dials atomic.Int32
		r := newRunner(t, dir, &fakeServer{}, func(c *Config) {
			c.Dial = func(context.Context) (Conn, error) {
				dials.Add(1)
				return nil, fmt.Errorf("dial h:1 over quic: %w: CRYPTO_ERROR 0x12a (remote): tls: bad certificate", client.ErrCertificateRefused)
			}
		})
		if err := r.Run(ctxTimeout(t, 500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if n := dials.Load(); n != 2 {
			t.Errorf("dialled %d times, want 2 (one refusal is not enough, two are)", n)
		}
		st := loadState(t, dir)
		if st.Refused == nil || st.Refused.Reason != state.RefusedRevoked || strings.Contains(st.Refused.Message, "CRYPTO_ERROR") {
			t.Fatalf("refusal %+v, want a plain revocation", st.Refused)
		}
		before, _ := r.spool.Len()
		if _, err := r.Cycle(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if after, _ := r.spool.Len(); after != before {
			t.Errorf("a check after the refusal was spooled (%d -> %d reports)", before, after)
		}
	})
	t.Run("one handshake refusal among successes is not a refusal", func(t *testing.T) {
		dir := t.TempDir()
		srv := &fakeServer{}
		var dials atomic.Int32
		r := newRunner(t, dir, srv, func(c *Config) {
			c.Dial = func(ctx context.Context) (Conn, error) {
				if dials.Add(1) == 1 {
					return nil, client.ErrCertificateRefused
				}
				return srv.dial(ctx)
			}
		})
		if err := r.Run(ctxTimeout(t, 2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if st := loadState(t, dir); st.Refused != nil || len(srv.storedSeqs()) == 0 {
			t.Errorf("refusal %+v, %d reports delivered", st.Refused, len(srv.storedSeqs()))
		}
	})
	tests := []struct {
		name, code, reason, words string
	}{
		{"an explicit device_inactive is said in plain words at once", client.CodeDeviceInactive, state.RefusedInactive, "more than 90 days"},
		{"an explicit device_revoked is said in plain words at once", client.CodeDeviceRevoked, state.RefusedRevoked, "revoked this device's enrollment"},
		{"an unknown device is told its enrollment was removed", client.CodeDeviceUnknown, state.RefusedUnknown, "no longer knows this device"},
		{"a refused agent secret names the file and the fix", client.CodeAgentSecretInvalid, state.RefusedAgentSecret, "agent.secret in the agent's state directory is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := newRunner(t, dir, &fakeServer{refuse: tt.code})
			_, err := r.Once(ctxTimeout(t, 5*time.Second))
			var re *RefusedError
			if !errors.As(err, &re) || re.Refusal.Reason != tt.reason || !strings.Contains(err.Error(), tt.words) || !strings.Contains(err.Error(), "postern-agent enroll") {
				t.Fatalf("run --once: %v, want a %s refusal saying %q and how to enroll again", err, tt.reason, tt.words)
			}
			if st := loadState(t, dir); st.Refused == nil || st.Refused.Reason != tt.reason {
				t.Errorf("recorded refusal %+v", st.Refused)
			}
		})
	}
}
