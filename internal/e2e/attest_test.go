package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	wallclock "github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/testserver"
)

// TestAttestationFlipsTheDecision runs the yearly user attestation end to
// end under a policy that requires it: taken at enrollment, or later with
// `attest` and sent by the runner.
func TestAttestationFlipsTheDecision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	data := t.TempDir()
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML + "attestation: {required: true, grace: 0s}\n", Now: clk.Now, DataDir: data})
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	enroll := func(t *testing.T, state, user string) string {
		t.Helper()
		token := srv.Cmd(t, "token", "create")
		id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: srv.QUICAddr, Token: token,
			Host: snapshot(t, "linux-compliant"), Now: clk.Now, AttestUser: user, AcceptAttestation: user != ""})
		if err != nil {
			t.Fatalf("enroll: %v", err)
		}
		return "device_id=" + id.DeviceID
	}

	t.Run("a compliant device without an attestation is denied, then allowed after attest", func(t *testing.T) {
		state := t.TempDir()
		query := enroll(t, state, "")
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := srv.Decision(t, key, query); d.Allow || fmt.Sprint(d.Codes()) != "[attestation_missing:]" {
			t.Fatalf("before attest: got allow=%v %v, want deny attestation_missing", d.Allow, d.Codes())
		}
		out := &strings.Builder{}
		if _, err := agentcli.Attest(agentcli.AttestOptions{StateDir: state, User: "Dana Ruiz", Accept: true, Out: out, Now: clk.Now}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := srv.Decision(t, key, query); !d.Allow {
			t.Fatalf("after attest: got deny %v", d.Codes())
		}
	})

	t.Run("an attestation taken at enrollment allows the first compliant report", func(t *testing.T) {
		state := t.TempDir()
		query := enroll(t, state, "Lee Park")
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := srv.Decision(t, key, query); !d.Allow {
			t.Fatalf("got deny %v", d.Codes())
		}
	})

	t.Run("the attestations are in the audit log", func(t *testing.T) {
		out := srv.Cmd(t, "audit", "export")
		if n := strings.Count(out, "attestation_recorded"); n != 2 {
			t.Errorf("%d attestation_recorded rows, want 2", n)
		}
	})
}
