package cli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/installer/service"
)

type fakeManager struct {
	state service.State
	calls []string
	spec  service.Spec
}

func (m *fakeManager) Install() error   { m.calls = append(m.calls, "install"); return nil }
func (m *fakeManager) Uninstall() error { m.calls = append(m.calls, "uninstall"); return nil }
func (m *fakeManager) Start() error     { m.calls = append(m.calls, "start"); return nil }
func (m *fakeManager) Stop() error      { m.calls = append(m.calls, "stop"); return nil }
func (m *fakeManager) Status() (service.State, error) {
	return m.state, nil
}

func withManager(f *Factory, m *fakeManager) {
	f.Service = func(s service.Spec) (ServiceManager, error) { m.spec = s; return m, nil }
}

func TestServiceCommands(t *testing.T) {
	enrolled := func(t *testing.T) string {
		dir := t.TempDir()
		d, _ := state.Open(dir)
		if err := os.WriteFile(d.File(state.IdentityFile), []byte(`{"device_id":"a","server":"s:1"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name      string
		args      func(dir string) []string
		wantCalls []string
		wantOut   string
		wantGone  bool
	}{
		{"install installs and starts the service", func(d string) []string { return []string{"install", "--state", d} },
			[]string{"install"}, "installed and started", false},
		{"install with a token keeps an existing identity", func(d string) []string {
			return []string{"install", "--state", d, "--server", "127.0.0.1:1", "--token", testSecret}
		}, []string{"install"}, "keeping this device's identity", false},
		{"uninstall keeps the state", func(d string) []string { return []string{"uninstall", "--state", d} },
			[]string{"uninstall"}, "removed", false},
		{"uninstall --purge deletes the state", func(d string) []string { return []string{"uninstall", "--purge", "--state", d} },
			[]string{"uninstall"}, "deleted", true},
		{"start starts", func(d string) []string { return []string{"start", "--state", d} }, []string{"start"}, "started", false},
		{"stop stops", func(d string) []string { return []string{"stop", "--state", d} }, []string{"stop"}, "stopped", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := enrolled(t)
			f, out, errOut := testFactory()
			m := &fakeManager{}
			withManager(f, m)
			if code := Main(context.Background(), f, tt.args(dir)); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if diff := cmp.Diff(tt.wantCalls, m.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			if m.spec.StateDir != dir || !filepath.IsAbs(m.spec.Executable) {
				t.Errorf("spec = %+v", m.spec)
			}
			_, err := os.Stat(filepath.Join(dir, state.IdentityFile))
			if gone := errors.Is(err, os.ErrNotExist); gone != tt.wantGone {
				t.Errorf("identity gone = %v, want %v", gone, tt.wantGone)
			}
		})
	}
	t.Run("install with a secret never contacts the server and leaves enrolling to the service", func(t *testing.T) {
		dir := t.TempDir()
		f, out, errOut := testFactory()
		m := &fakeManager{}
		withManager(f, m)
		// Nothing listens on port 1: an install must not care.
		if code := Main(context.Background(), f, []string{"install", "--state", dir, "--server", "127.0.0.1:1", "--secret", testSecret}); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		d, _ := state.Open(dir)
		p, err := d.PendingEnrollment()
		if err != nil || p == nil || p.Server != "127.0.0.1:1" || p.Secret != testSecret {
			t.Fatalf("pending = %+v, %v", p, err)
		}
		if fi, err := os.Stat(d.File(state.PendingEnrollmentFile)); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Errorf("pending enrollment file: %v %v", fi.Mode(), err)
		}
		if strings.Contains(out.String()+errOut.String(), "c2VjcmV0") {
			t.Errorf("the secret was printed: %s %s", out, errOut)
		}
		if diff := cmp.Diff([]string{"install"}, m.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("install with a malformed secret still installs, warns, and leaves the report to the service", func(t *testing.T) {
		f, _, errOut := testFactory()
		m := &fakeManager{}
		withManager(f, m)
		if code := Main(context.Background(), f, []string{"install", "--state", t.TempDir(), "--server", "h:1", "--token", "pt1.x.y"}); code != ExitOK || len(m.calls) != 1 {
			t.Errorf("exit %d, calls %v: %s", code, m.calls, errOut)
		}
		if !strings.Contains(errOut.String(), "malformed") {
			t.Errorf("stderr %q", errOut)
		}
	})
	t.Run("install with a server but no token is refused", func(t *testing.T) {
		f, _, errOut := testFactory()
		withManager(f, &fakeManager{})
		if code := Main(context.Background(), f, []string{"install", "--server", "h:1"}); code != ExitError || !strings.Contains(errOut.String(), "go together") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("status shows the service state, and exits 1 before the first check", func(t *testing.T) {
		f, out, _ := testFactory()
		withManager(f, &fakeManager{state: service.StateRunning})
		if code := Main(context.Background(), f, []string{"status", "--state", enrolled(t)}); code != ExitNotCompliant {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(out.String(), "service:      running") {
			t.Errorf("stdout %q", out)
		}
	})
}

func TestRunServiceHelpers(t *testing.T) {
	t.Run("waiting for enrollment returns once an identity appears", func(t *testing.T) {
		dir := t.TempDir()
		done := make(chan error, 1)
		go func() {
			done <- (&enrollWaiter{stateDir: dir, log: slog.New(slog.DiscardHandler), poll: time.Millisecond}).wait(context.Background())
		}()
		d, _ := state.Open(dir)
		// Written whole, as enrollment does.
		tmp := d.File("identity.tmp")
		if err := os.WriteFile(tmp, []byte(`{"device_id":"a","server":"s:1"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, d.File(state.IdentityFile)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("waiting for enrollment ends with the context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := (&enrollWaiter{stateDir: t.TempDir(), log: slog.New(slog.DiscardHandler), poll: time.Hour}).wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("on windows and macOS the service logs JSON to the state directory", func(t *testing.T) {
		dir := t.TempDir()
		f, _, errOut := testFactory()
		log, closeLog, err := serviceLogger(f, dir, "windows")
		if err != nil {
			t.Fatal(err)
		}
		log.Info("agent started", "state_dir", dir)
		closeLog()
		b, err := os.ReadFile(filepath.Join(dir, LogFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"msg":"agent started"`)) || errOut.Len() != 0 {
			t.Errorf("log %q, stderr %q", b, errOut)
		}
	})
}

func TestServiceActionsAreRecorded(t *testing.T) {
	t.Run("on windows a failed install is in the service's log, which msiexec's log is not", func(t *testing.T) {
		dir := t.TempDir()
		f, _, _ := testFactory()
		recordServiceAction(f, dir, "windows", "install", errors.New("start service: Service request timeout"))
		recordServiceAction(f, dir, "windows", "stop", nil)
		b, err := os.ReadFile(filepath.Join(dir, LogFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"msg":"service install failed","error":"start service: Service request timeout"`, `"msg":"service stop done"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("log lacks %s:\n%s", want, b)
			}
		}
	})
	t.Run("on linux the package manager shows the output: no log file", func(t *testing.T) {
		dir := t.TempDir()
		f, _, _ := testFactory()
		recordServiceAction(f, dir, "linux", "install", errors.New("x"))
		if _, err := os.Stat(filepath.Join(dir, LogFile)); err == nil {
			t.Error("a log file was written")
		}
	})
}
