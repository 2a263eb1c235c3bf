package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// execAllowed are the only packages that may start programs: the live host
// (every collector's command goes through it, by absolute path with a
// deadline), the agent's allowlisted runner (notifications), and the
// package builders, which run at build time, never on a laptop, and the
// PostgreSQL test harness, which starts a throwaway database for tests
// (deps_test.go keeps it out of both binaries), and likewise the swtpm
// harness, which starts software TPMs for tests, the PKCS#11 module
// builder, which compiles the agent's module for tests, the Debian-root harness,
// which enters test roots with unshare and chroot, and the load generator,
// which runs the server it measures (kept out of both binaries too).
var execAllowed = []string{"checks/host/live", "agent/allowcmd", "installer/pkg", "server/store/pgtest", "internal/swtpmtest", "internal/pkcs11test", "checks/internal/roottest", "internal/loadgen"}

func TestOnlyAllowlistedPackagesStartPrograms(t *testing.T) {
	forEachGoFile(t, parser.ImportsOnly, execAllowed, func(rel string, _ *token.FileSet, f *ast.File) {
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "os/exec" {
				t.Errorf("%s imports os/exec: run programs through checks/host (collectors) or agent/allowcmd", rel)
			}
		}
	})
}
