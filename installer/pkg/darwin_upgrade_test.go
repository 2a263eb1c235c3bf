package pkg

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDarwinTarballUpgrade runs the macOS tarball's install.sh as written
// (its logic: architecture choice, enrollment once, the identity kept
// across an upgrade, the daemon reloaded, uninstall and --purge) on a fake
// root: its absolute paths are moved under a scratch directory, and
// launchctl, uname, id and install -o/-g are stand-ins on PATH. What is not
// run here: launchd itself, the Mach-O binaries, the keychain (the agent's
// browser-cert remove is only seen being called), pkgbuild, signing and
// notarisation, which need a Mac (docs/deploy-macos.md).
func TestDarwinTarballUpgrade(t *testing.T) {
	need(t, "tar")
	work := t.TempDir()
	root := filepath.Join(work, "root")
	calls := filepath.Join(work, "calls")
	stubs := filepath.Join(work, "stubs")
	for _, d := range []string{root, stubs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, body string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	rec := "echo \"$(basename \"$0\") $*\" >>'" + calls + "'\n"
	write(filepath.Join(stubs, "launchctl"), "#!/bin/sh\n"+rec, 0o755)
	write(filepath.Join(stubs, "uname"), "#!/bin/sh\necho arm64\n", 0o755)
	write(filepath.Join(stubs, "id"), "#!/bin/sh\necho 0\n", 0o755)
	// macOS's install -o root -g wheel: no wheel group here, and the
	// owner is not what is tested.
	write(filepath.Join(stubs, "install"), `#!/bin/sh
args=
while [ $# -gt 0 ]; do
	case "$1" in
	-o | -g) shift 2 ;;
	*) args="$args '$1'"; shift ;;
	esac
done
eval exec /usr/bin/install $args
`, 0o755)
	// The agent of each version: enroll writes an identity naming the
	// version that made it; every call is recorded.
	agent := func(version string) string {
		p := filepath.Join(work, "agent-"+version)
		write(p, "#!/bin/sh\n"+rec+`case "$1" in
version) echo "postern-agent `+version+`" ;;
enroll)
	state=$3
	secret=$(cat)
	[ -n "$secret" ] || exit 1
	printf '{"device_id":"dev-made-by-`+version+`"}' >"$state/identity.json" ;;
esac
`, 0o755)
		return p
	}
	unpack := func(version string) string {
		t.Helper()
		tgz, err := BuildDarwin(DarwinOptions{Version: version, OutDir: filepath.Join(work, "dist"),
			Binaries: map[string]string{"amd64": fakeBinary(t, "x86"), "arm64": agent(version)}})
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(work, "unpacked-"+version)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		run(t, "tar", "-xzf", tgz, "-C", dir)
		dir = filepath.Join(dir, PackageName+"_"+version+"_darwin")
		script := filepath.Join(dir, "install.sh")
		b, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, p := range []string{"'/usr/local/bin/postern-agent'", "'/Library/Application Support/Postern'", `"/Library/LaunchDaemons/`} {
			if !strings.Contains(s, p) {
				t.Fatalf("install.sh no longer has %s: update this test's fake root", p)
			}
			s = strings.ReplaceAll(s, p, p[:1]+root+p[1:])
		}
		write(script, s, 0o755)
		return script
	}
	bin := filepath.Join(root, "usr/local/bin/postern-agent")
	state := filepath.Join(root, "Library/Application Support/Postern")
	plist := filepath.Join(root, "Library/LaunchDaemons/dev.postern.agent.plist")
	sh := func(script string, args ...string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, "Library/LaunchDaemons"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", append([]string{script}, args...)...)
		cmd.Env = []string{"PATH=" + stubs + ":/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("install.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	token := filepath.Join(work, "secret")

	write(token, "pt1.fleet-secret\n", 0o600)
	out := sh(unpack("1.0.0"), "--server", "posture.example.org:4433", "--token-file", token)
	t.Run("the first install puts this architecture's agent in place, enrolls once and loads the daemon", func(t *testing.T) {
		if !strings.Contains(read(bin), "1.0.0") {
			t.Error("the arm64 agent 1.0.0 is not installed")
		}
		if read(filepath.Join(state, "identity.json")) != `{"device_id":"dev-made-by-1.0.0"}` {
			t.Error("not enrolled")
		}
		if _, err := os.Stat(token); err == nil {
			t.Error("the secret file was kept after a successful enrollment")
		}
		if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("state directory %v, %v", fi, err)
		}
		if read(plist) != DarwinPlist() {
			t.Error("the daemon's plist is not installed")
		}
		if !strings.Contains(read(calls), "launchctl bootstrap system "+plist) || !strings.Contains(out, "postern-agent installed") {
			t.Errorf("daemon not loaded: %s", read(calls))
		}
	})

	// An MDM pushes the newer tarball with the same secret again.
	write(token, "pt1.fleet-secret\n", 0o600)
	before := read(calls)
	out = sh(unpack("1.1.0"), "--server", "posture.example.org:4433", "--token-file", token)
	t.Run("the upgrade replaces the agent, keeps the identity and state, and reloads the daemon", func(t *testing.T) {
		if !strings.Contains(read(bin), "1.1.0") {
			t.Error("the agent was not upgraded")
		}
		if read(filepath.Join(state, "identity.json")) != `{"device_id":"dev-made-by-1.0.0"}` || !strings.Contains(out, "already enrolled") {
			t.Errorf("the identity was replaced or not reported kept: %s", out)
		}
		again := strings.TrimPrefix(read(calls), before)
		if strings.Contains(again, "enroll") {
			t.Errorf("the upgrade enrolled again: %s", again)
		}
		boot := strings.Index(again, "launchctl bootout system "+plist)
		strap := strings.Index(again, "launchctl bootstrap system "+plist)
		if boot < 0 || strap < boot {
			t.Errorf("the daemon was not unloaded then loaded: %s", again)
		}
	})

	script := filepath.Join(work, "unpacked-1.1.0", PackageName+"_1.1.0_darwin", "install.sh")
	out = sh(script, "--uninstall")
	t.Run("uninstall unloads the daemon, removes the certificate, plist and agent, and keeps the identity", func(t *testing.T) {
		for _, p := range []string{bin, plist} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s is still there", p)
			}
		}
		if read(filepath.Join(state, "identity.json")) == "" || !strings.Contains(out, "identity is kept") {
			t.Error("the identity was not kept")
		}
		if !strings.Contains(read(calls), "postern-agent-1.1.0 browser-cert remove --state "+state) &&
			!strings.Contains(read(calls), "postern-agent browser-cert remove --state "+state) {
			t.Errorf("the device certificate was not taken out of the keychains: %s", read(calls))
		}
	})
	sh(script, "--uninstall", "--purge")
	t.Run("--purge deletes the identity and state too", func(t *testing.T) {
		if _, err := os.Stat(state); err == nil {
			t.Error("the state directory is still there")
		}
	})
}
