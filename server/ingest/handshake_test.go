package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
)

// handshakeRefused checks that the server rejects cert in the TLS
// handshake: either the dial fails or the connection is closed with a TLS
// (crypto) error before any stream is accepted.
func (e *env) handshakeRefused(cert *tls.Certificate) error {
	conn, err := e.dial(cert)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		defer conn.CloseWithError(0, "")
		select {
		case <-conn.Context().Done():
			err = context.Cause(conn.Context())
		case <-ctx.Done():
			return errors.New("the connection stayed open")
		}
	}
	var te *quic.TransportError
	if errors.As(err, &te) && te.ErrorCode.IsCryptoError() {
		return nil
	}
	return fmt.Errorf("connection ended with %v, want a TLS alert", err)
}

func TestLifecycle(t *testing.T) {
	t.Run("an inactive device is refused at the handshake", func(t *testing.T) {
		e := start(t, "", nil)
		d := e.enroll()
		e.clock.Add(decision.InactiveAfter + time.Hour)
		if err := e.handshakeRefused(&d.cert); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a device seen recently completes the handshake", func(t *testing.T) {
		e := start(t, "", nil)
		d := e.enroll()
		e.clock.Add(decision.InactiveAfter - time.Hour)
		c := e.control(d)
		c.close()
	})
	t.Run("a stored report is announced to OnReport, a duplicate is not", func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		e := start(t, "", func(c *Config) {
			c.OnReport = func(id string) { mu.Lock(); got = append(got, id); mu.Unlock() }
		})
		d := e.enroll()
		c := e.control(d)
		defer c.close()
		r := wireReport(1, "h")
		c.report(r)
		c.report(r)
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || got[0] != d.id {
			t.Errorf("OnReport calls = %v, want [%s]", got, d.id)
		}
	})
	t.Run("the organization's profile is pushed and used for first failures", func(t *testing.T) {
		var mu sync.Mutex
		var orgs []string
		e := start(t, "", func(c *Config) {
			c.PolicyFor = func(org string) (*checks.Policy, []byte) {
				mu.Lock()
				orgs = append(orgs, org)
				mu.Unlock()
				return checks.DefaultPolicy(), []byte("max_report_age: 20m\n")
			}
		})
		d := e.enroll()
		c := e.control(d)
		defer c.close()
		if y := c.mustRecv().GetCommand().GetPolicy().GetPolicyYaml(); string(y) != "max_report_age: 20m\n" {
			t.Errorf("pushed policy = %q", y)
		}
		c.report(wireReport(1, "h"))
		mu.Lock()
		defer mu.Unlock()
		if len(orgs) < 2 || orgs[0] != "clinic" {
			t.Errorf("PolicyFor calls = %v, want the device's organization twice", orgs)
		}
	})
	t.Run("an enrollment is audited", func(t *testing.T) {
		var log *audit.Log
		e := start(t, "", func(c *Config) {
			log = audit.New(c.Store, nil, nil)
			c.Audit = log
		})
		d := e.enroll()
		rows, err := e.store.AuditRows(context.Background(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Kind != audit.KindEnrollment || rows[0].DeviceID != d.id {
			t.Errorf("audit rows = %+v", rows)
		}
	})
}
