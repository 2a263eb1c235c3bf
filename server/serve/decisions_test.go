package serve

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// TestPolicyReloadWiring runs the real server and checks that a policy
// file change is picked up by the poll, versioned, stored for `policy
// status`, and audited in an intact chain.
func TestPolicyReloadWiring(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pf, []byte("max_report_age: 15m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.PolicyFile, cfg.QUICAddr, cfg.HTTPSAddr = dir, pf, "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Init: true, Ready: func(net.Addr, net.Addr) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	status := func() policy.Status {
		s, err := policy.ReadStatus(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := status(); s.ActiveVersion != 1 {
		t.Fatalf("status at start = %+v, want version 1", s)
	}
	if err := os.WriteFile(pf, []byte("profiles:\n  clinic-a:\n    max_report_age: 30m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The poll runs every policy.DefaultPollInterval; wait for it.
	deadline := time.Now().Add(4 * policy.DefaultPollInterval)
	for status().ActiveVersion != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("policy not reloaded: %+v", status())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	kr, err := audit.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.New(st, nil, nil).Keyed(kr).Verify(context.Background())
	if err != nil || !res.OK() || !res.Keyed {
		t.Fatalf("audit verify = %+v, %v", res, err)
	}
	rows, _ := st.AuditRows(context.Background(), 0, 0)
	applied := 0
	for _, r := range rows {
		if r.Kind == audit.KindPolicyApplied {
			applied++
		}
	}
	if applied != 2 {
		t.Errorf("policy_applied rows = %d, want 2", applied)
	}
}
