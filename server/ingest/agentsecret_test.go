package ingest

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
)

// TestAgentSecret plays the console user's program that can use the
// device key (a TPM key serving the browser) but cannot read the agent's
// secret.
func TestAgentSecret(t *testing.T) {
	e := start(t, "", func(c *Config) { c.Audit = audit.New(c.Store, nil, nil) })
	d := e.enroll()
	refused := func(t *testing.T, env *pb.Envelope) {
		t.Helper()
		c := e.open(&d.cert)
		defer c.close()
		c.send(env)
		if got := errorCode(c.mustRecv()); got != CodeAgentSecretInvalid {
			t.Fatalf("code %q, want %q", got, CodeAgentSecretInvalid)
		}
	}
	t.Run("enrollment issues a secret and stores only its hash", func(t *testing.T) {
		if len(d.secret) != pb.AgentSecretSize {
			t.Fatalf("secret of %d bytes", len(d.secret))
		}
		dev, err := e.store.DeviceByCert(context.Background(), ca.Fingerprint(d.cert.Certificate[0]))
		if err != nil {
			t.Fatal(err)
		}
		if dev.AgentSecretHash != pb.AgentSecretHash(d.secret) {
			t.Errorf("stored %q, want the secret's hash", dev.AgentSecretHash)
		}
	})
	t.Run("the device key without a proof is refused and audited", func(t *testing.T) {
		refused(t, hello())
		rows, err := e.store.AuditRows(context.Background(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			found = found || (r.Kind == audit.KindAgentProofRefused && r.DeviceID == d.id)
		}
		if !found {
			t.Errorf("no %s row in %+v", audit.KindAgentProofRefused, rows)
		}
	})
	t.Run("a proof made with a wrong secret is refused", func(t *testing.T) {
		c := e.open(&d.cert)
		defer c.close()
		wrong := device{id: d.id, cert: d.cert, secret: make([]byte, pb.AgentSecretSize)}
		c.send(wrong.helloOn(t, c.conn.ConnectionState().TLS))
		if got := errorCode(c.mustRecv()); got != CodeAgentSecretInvalid {
			t.Fatalf("code %q", got)
		}
	})
	t.Run("a proof captured from the agent's connection is refused on another", func(t *testing.T) {
		agent := e.open(&d.cert)
		defer agent.close()
		captured := d.helloOn(t, agent.conn.ConnectionState().TLS)
		agent.send(captured)
		if h := agent.mustRecv(); h.GetHello() == nil {
			t.Fatalf("agent answered %v", h)
		}
		refused(t, captured)
	})
	t.Run("a proof of the wrong length or of the secret's hash itself is refused", func(t *testing.T) {
		h := hello()
		h.GetHello().AgentProof = []byte(strings.Repeat("x", 7))
		refused(t, h)
		sum := sha256.Sum256(d.secret)
		h.GetHello().AgentProof = sum[:]
		refused(t, h)
	})
	t.Run("the agent with its secret reports", func(t *testing.T) {
		c := e.control(d)
		defer c.close()
		if ack := c.report(wireReport(1, "laptop-1")); ack.GetAck().GetSequence() != 1 {
			t.Fatalf("answer %v", ack)
		}
	})
	t.Run("a device enrolled before agent secrets is still accepted", func(t *testing.T) {
		old := e.provision(t)
		c := e.control(old)
		c.close()
	})
}
