package roottest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

// RootName is the directory of the root under the cache; it changes with
// scripts/debian-root.sh's version, so an old cache is rebuilt.
const RootName = "bookworm-v2"

// runTimeout bounds one variant: the agent's slowest command (apt's
// simulation) takes seconds in the root.
const runTimeout = 3 * time.Minute

// CacheDir is where the roots are kept: ${POSTERN_CACHE:-/var/cache/postern}/roots.
func CacheDir() string {
	c := os.Getenv("POSTERN_CACHE")
	if c == "" {
		c = "/var/cache/postern"
	}
	return filepath.Join(c, "roots")
}

// unavailable skips the test outside CI and fails it in CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("Debian root harness: %s (CI must provide it: .ci/run builds the root)", msg)
	}
	t.Skipf("Debian root harness skipped: %s", msg)
}

// Base returns the built root, skipping (or failing in CI) when it or the
// tools to enter it are missing.
func Base(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "needs root (chroot, namespaces, overlay mounts)")
	}
	for _, tool := range []string{"unshare", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s is not installed (util-linux, coreutils)", tool)
		}
	}
	root := filepath.Join(CacheDir(), RootName)
	if _, err := os.Stat(filepath.Join(root, ".postern-root-complete")); err != nil {
		unavailable(t, "no Debian root at %s: build it with `make debian-root` as root (about 5 minutes, 490 MB)", root)
	}
	return root
}

var agent struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Cleanup removes the agent built by Agent; TestMain calls it after the
// tests.
func Cleanup() {
	if agent.dir != "" {
		os.RemoveAll(agent.dir)
	}
}

// Agent builds postern-agent once per test binary, statically, so that it
// runs in the root whatever its libc.
func Agent(t testing.TB) string {
	t.Helper()
	agent.once.Do(func() {
		dir, err := os.MkdirTemp("", "postern-roottest-agent-")
		if err != nil {
			agent.err = err
			return
		}
		agent.dir = dir
		modRoot, err := moduleRoot()
		if err != nil {
			agent.err = err
			return
		}
		agent.path = filepath.Join(dir, "postern-agent")
		cmd := exec.Command("go", "build", "-trimpath", "-o", agent.path, "./agent/cmd/postern-agent")
		cmd.Dir = modRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			agent.err = fmt.Errorf("build postern-agent: %v\n%s", err, out)
		}
	})
	if agent.err != nil {
		t.Fatal(agent.err)
	}
	return agent.path
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the Postern module")
	}
	return filepath.Dir(mod), nil
}

// Variant is one machine: the base root changed by Files (written into
// the root, parents created) and then by Setup, a POSIX shell script run
// inside the root as root, without network.
type Variant struct {
	Files map[string][]byte
	Setup string
}

// Result is what the agent said in the variant.
type Result struct {
	Verdicts map[checks.ControlID]checks.Verdict
	// Log is the setup script's and the agent's stderr.
	Log string
}

// Verdict returns the verdict of id, failing the test when there is none.
func (r Result) Verdict(t testing.TB, id checks.ControlID) checks.Verdict {
	t.Helper()
	v, ok := r.Verdicts[id]
	if !ok {
		t.Fatalf("no verdict for %s; log:\n%s", id, r.Log)
	}
	return v
}

// enter mounts an overlay of the base root, gives it its own /proc and
// runs the setup and the agent in it. It runs in new mount, network and
// PID namespaces (unshare), so the mounts and any ruleset vanish with it.
const enter = `set -e
base=$1 upper=$2 work=$3 merged=$4 out=$5
mount -t overlay overlay -o "lowerdir=$base,upperdir=$upper,workdir=$work" "$merged"
mount -t proc proc "$merged/proc"
chroot "$merged" /bin/sh -e /postern-setup.sh
set +e
chroot "$merged" /usr/local/bin/postern-agent check --json >"$out"
code=$?
[ $code -le 1 ] || { echo "postern-agent check exited $code" >&2; exit $code; }
exit 0
`

// Run builds the variant on a fresh overlay and returns the agent's
// verdicts.
func Run(t testing.TB, v Variant) Result {
	t.Helper()
	base := Base(t)
	bin := Agent(t)
	// The overlay's upper and work directories must be on one file
	// system; beside the root they are not on a tmpfs or an overlay.
	dir, err := os.MkdirTemp(CacheDir(), ".run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{"/postern-setup.sh": []byte(v.Setup + "\n")}
	for p, b := range v.Files {
		files[p] = b
	}
	agentBytes, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	files["/usr/local/bin/postern-agent"] = agentBytes
	for p, b := range files {
		dst := filepath.Join(upper, filepath.Clean("/"+p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "check.json")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--net", "--pid", "--fork", "--propagation", "private",
		"sh", "-c", enter, "enter", base, upper, work, merged, out)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run the variant: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Controls []checks.Verdict `json:"controls"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("decode the agent's output: %v\n%s\n%s", err, b, stderr.String())
	}
	r := Result{Verdicts: map[checks.ControlID]checks.Verdict{}, Log: stderr.String()}
	for _, v := range res.Controls {
		r.Verdicts[v.ID] = v
	}
	return r
}
