// Package pkcs11test builds the agent's PKCS#11 module
// (agent/browsercert/pkcs11module) for tests, as the Makefile builds it
// for the Linux package.
package pkcs11test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Header is where Debian's libp11-kit-dev puts the PKCS#11 header the
// module is compiled against.
const Header = "/usr/include/p11-kit-1/p11-kit/pkcs11.h"

// Source returns the module's C source in this tree.
func Source() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "agent", "browsercert", "pkcs11module", "postern-pkcs11.c")
}

// Build compiles the module into a temporary folder and returns the
// library's path. Without a C compiler or the header it fails in CI
// (.ci/run installs both) and skips elsewhere.
func Build(t testing.TB) string {
	t.Helper()
	return BuildWith(t)
}

// BuildWith is Build with extra compiler flags, such as
// -fsanitize=address for tests that feed the module malformed answers.
func BuildWith(t testing.TB, flags ...string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err == nil {
		_, err = os.Stat(Header)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot build the PKCS#11 module: %v (apt-get install gcc libp11-kit-dev; .ci/run does)", err)
		}
		t.Skipf("cannot build the PKCS#11 module: %v (apt-get install gcc libp11-kit-dev)", err)
	}
	out := filepath.Join(t.TempDir(), "libpostern-pkcs11.so")
	args := append([]string{"-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-I" + filepath.Dir(filepath.Dir(Header))}, flags...)
	cmd := exec.Command(cc, append(args, "-o", out, Source())...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the PKCS#11 module: %v\n%s", err, b)
	}
	return out
}
