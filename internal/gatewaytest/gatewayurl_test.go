package gatewaytest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/internal/testserver"
)

// TestTheGatewayURLReachesEnrolledAgents: a gateway URL set, changed or
// removed in the server's configuration after a device enrolled reaches
// it in the Hello of its next connection, and the agent places the
// browsers' policies again.
func TestTheGatewayURLReachesEnrolledAgents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML})
	stateDir := t.TempDir()
	if _, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr, Token: srv.Cmd(t, "token", "create"),
		Host: testserver.Snapshot(t, "linux-compliant")}); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	dataDir, addr := srv.DataDir, srv.QUICAddr
	gatewayURL := func() string {
		t.Helper()
		dir, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		id, err := dir.LoadIdentity()
		if err != nil {
			t.Fatal(err)
		}
		return id.GatewayURL
	}
	if got := gatewayURL(); got != "" {
		t.Fatalf("enrolled with gateway URL %q from a server without one", got)
	}
	var placed atomic.Int32
	reportTo := func(s *testserver.Server) {
		t.Helper()
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: testserver.Snapshot(t, "linux-compliant"), AckTimeout: 20 * time.Second,
			OnGatewayURL: func(context.Context) { placed.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := r.Once(ctx); err != nil || res.Ack == nil {
			t.Fatalf("report: %v", err)
		}
	}
	steps := []struct {
		name, url string
		placed    int32
	}{
		{"a URL set after enrollment reaches the agent", "https://ehr.dmh.example", 1},
		{"a changed URL replaces it", "https://ehr2.dmh.example:8443", 2},
		{"the same URL again changes nothing", "https://ehr2.dmh.example:8443", 2},
		{"a removed URL removes it", "", 3},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			srv.Stop()
			srv = testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, DataDir: dataDir, QUICAddr: addr, GatewayURL: step.url})
			reportTo(srv)
			if got := gatewayURL(); got != step.url {
				t.Errorf("identity.json gateway URL %q, want %q", got, step.url)
			}
			if got := placed.Load(); got != step.placed {
				t.Errorf("placements %d, want %d", got, step.placed)
			}
		})
	}
}
