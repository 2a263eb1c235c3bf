package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/postern-dev/postern"

func deps(t *testing.T, goos string, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

func TestDependencyRules(t *testing.T) {
	rules := []struct {
		name      string
		pkgs      []string
		forbidden []string
	}{
		{"the server links no agent or live-host code", []string{module + "/server/..."},
			[]string{module + "/agent", module + "/checks/host/live", "golang.org/x/sys/windows/registry"}},
		{"the wire schema links nothing of ours but itself", []string{module + "/proto"},
			[]string{module + "/agent", module + "/server", module + "/checks"}},
		{"the agent links no server code", []string{module + "/agent/..."},
			[]string{module + "/server", "modernc.org/sqlite", "github.com/jackc/pgx"}},
		{"the binaries link no test harness", []string{module + "/server/cmd/postern-server", module + "/agent/cmd/postern-agent"},
			[]string{module + "/server/store/pgtest", module + "/internal/testserver", module + "/checks/internal/checktest", module + "/internal/swtpmtest", module + "/internal/pkcs11test", module + "/checks/internal/roottest", module + "/internal/loadgen", module + "/cmd",
				module + "/internal/oidctest", "github.com/zitadel"}},
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, r := range rules {
			t.Run(goos+": "+r.name, func(t *testing.T) {
				for _, d := range deps(t, goos, r.pkgs...) {
					for _, f := range r.forbidden {
						if d == f || strings.HasPrefix(d, f+"/") {
							t.Errorf("%s depends on %s", strings.Join(r.pkgs, " "), d)
						}
					}
				}
			})
		}
	}
}
