package pkg

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// shellCheck runs sh -n on a script.
func shellCheck(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v: %s", err, out)
	}
}

func TestScriptsText(t *testing.T) {
	s, err := LinuxScripts(DefaultPaths())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, golden, text string }{
		{"the post-install never enrolls and enables the service", "postinstall.sh", s.PostInstall},
		{"the pre-remove stops and disables the service on removal only", "preremove.sh", s.PreRemove},
		{"the macOS install script installs per architecture and loads the daemon", "install-darwin.sh", DarwinInstallScript()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.golden, tt.text)
			shellCheck(t, tt.text)
		})
	}
	t.Run("a path with a quote is refused", func(t *testing.T) {
		p := DefaultPaths()
		p.Bin = "/usr/bin/it's"
		if _, err := LinuxScripts(p); err == nil {
			t.Error("no error")
		}
	})
}

// sandbox is a scratch tree for running the scripts: a fake agent that
// records its arguments and stdin, and a fake systemctl on PATH.
type sandbox struct {
	dir   string
	paths Paths
	env   []string
}

func newSandbox(t *testing.T, systemd bool, enrollExit int) *sandbox {
	t.Helper()
	dir := t.TempDir()
	p := Paths{
		Bin: filepath.Join(dir, "postern-agent"), EtcDir: filepath.Join(dir, "etc"),
		StateDir: filepath.Join(dir, "state"), SystemdRun: filepath.Join(dir, "run-systemd"), Unit: "postern-agent.service",
	}
	binDir := filepath.Join(dir, "bin")
	for _, d := range []string{p.EtcDir, binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if systemd {
		if err := os.MkdirAll(p.SystemdRun, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	agent := "#!/bin/sh\necho \"$*\" >>'" + dir + "/agent.calls'\ncat >>'" + dir + "/agent.stdin'\nexit " + string(rune('0'+enrollExit)) + "\n"
	systemctl := "#!/bin/sh\necho \"$*\" >>'" + dir + "/systemctl.calls'\n"
	for path, body := range map[string]string{p.Bin: agent, filepath.Join(binDir, "systemctl"): systemctl} {
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &sandbox{dir: dir, paths: p, env: []string{"PATH=" + binDir + ":/usr/bin:/bin"}}
}

func (s *sandbox) write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *sandbox) run(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", script, "script"}, args...)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v: %s", err, out)
	}
	return string(out)
}

func (s *sandbox) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, name))
	return string(b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestPostInstall(t *testing.T) {
	restart := "daemon-reload\nenable postern-agent.service\nrestart postern-agent.service\n"
	tests := []struct {
		name        string
		systemd     bool
		provision   bool
		enrolled    bool
		args        []string
		wantSystemd string
		wantOut     string
	}{
		{name: "a provisioned device is left to the service, which enrolls it", systemd: true, provision: true,
			args: []string{"configure"}, wantOut: "the service will enroll this device from", wantSystemd: restart},
		{name: "an enrolled device keeps its identity", systemd: true, provision: true, enrolled: true,
			args: []string{"configure", "1.0.0"}, wantOut: "keeping this device's identity", wantSystemd: restart},
		{name: "without provisioning files it says how to enroll", systemd: true, args: []string{"2"},
			wantOut: "enroll --server HOST:PORT --token -", wantSystemd: restart},
		{name: "without systemd the service is not enabled and says so", provision: true, args: []string{"configure"},
			wantOut: "systemd is not running"},
		{name: "a deb abort action does nothing", systemd: true, provision: true, args: []string{"abort-upgrade"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.systemd, 0)
			token := filepath.Join(sb.paths.EtcDir, "enroll.token")
			if tt.provision {
				sb.write(t, token, "pt1.secret-token\n")
				sb.write(t, filepath.Join(sb.paths.EtcDir, "server"), " posture.example.org:4433 \n")
			}
			if tt.enrolled {
				if err := os.MkdirAll(sb.paths.StateDir, 0o700); err != nil {
					t.Fatal(err)
				}
				sb.write(t, filepath.Join(sb.paths.StateDir, "identity.json"), "{}")
			}
			s, err := LinuxScripts(sb.paths)
			if err != nil {
				t.Fatal(err)
			}
			out := sb.run(t, s.PostInstall, tt.args...)
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
			// The package never runs the agent, and so never reads or
			// passes the secret: the service does.
			if diff := cmp.Diff("", sb.read("agent.calls")); diff != "" {
				t.Errorf("agent calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSystemd, sb.read("systemctl.calls")); diff != "" {
				t.Errorf("systemctl calls (-want +got):\n%s", diff)
			}
			if tt.provision && !exists(token) {
				t.Error("the post-install touched the token file")
			}
		})
	}
}

func TestPreRemove(t *testing.T) {
	tests := []struct {
		name    string
		systemd bool
		args    []string
		want    string
		removed bool // the agent takes the certificate out of the browsers' stores
	}{
		{"a deb removal stops and disables the service", true, []string{"remove"}, "stop postern-agent.service\ndisable postern-agent.service\n", true},
		{"an rpm removal stops and disables the service", true, []string{"0"}, "stop postern-agent.service\ndisable postern-agent.service\n", true},
		{"a deb upgrade keeps the service", true, []string{"upgrade", "1.1.0"}, "", false},
		{"an rpm upgrade keeps the service", true, []string{"1"}, "", false},
		{"without systemd removal succeeds quietly", false, []string{"remove"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.systemd, 0)
			s, err := LinuxScripts(sb.paths)
			if err != nil {
				t.Fatal(err)
			}
			sb.run(t, s.PreRemove, tt.args...)
			if diff := cmp.Diff(tt.want, sb.read("systemctl.calls")); diff != "" {
				t.Errorf("systemctl calls (-want +got):\n%s", diff)
			}
			want := ""
			if tt.removed {
				want = "browser-cert remove --state " + sb.paths.StateDir + "\n"
			}
			if diff := cmp.Diff(want, sb.read("agent.calls")); diff != "" {
				t.Errorf("agent calls (-want +got):\n%s", diff)
			}
		})
	}
}
