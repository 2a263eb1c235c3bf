package gateway_test

import (
	"os/exec"
	"strings"
	"testing"
)

func TestStandardLibraryOnly(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run("on "+goos+" the package links only the standard library", func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, p := range strings.Fields(string(out)) {
				if p != "github.com/postern-dev/postern/gateway" {
					t.Errorf("depends on %s", p)
				}
			}
		})
	}
}
