package server_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestServerHasNoAgentImports keeps the server binary free of agent-only and
// OS-specific collector code.
func TestServerHasNoAgentImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/postern-dev/postern/server/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/postern-dev/postern/agent") || strings.HasPrefix(dep, "github.com/postern-dev/postern/checks/host/live") {
			t.Errorf("server depends on %s", dep)
		}
	}
}
