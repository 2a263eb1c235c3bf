package service

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// VerifySystemdUnit runs `systemd-analyze verify` on unit (named name)
// and fails on any complaint: it exits 0 for keys it ignores, so its
// output is what counts. exe is an executable the unit may start.
func verifySystemdUnit(t *testing.T, name, unit string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed (apt-get install systemd): ", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s\nunit:\n%s", name, err, out, unit)
	}
}

func TestSystemdUnitVerifiesClean(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "postern-agent")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"/var/lib/postern", "/var/lib/post$ern x"} {
		verifySystemdUnit(t, "postern-agent.service", SystemdUnit(Spec{Executable: exe, StateDir: state}))
	}
}
