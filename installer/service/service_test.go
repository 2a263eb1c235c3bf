package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	kservice "github.com/kardianos/service"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var linuxSpec = Spec{Executable: "/usr/bin/postern-agent", StateDir: "/var/lib/postern"}

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

func TestRenderedFiles(t *testing.T) {
	tests := []struct {
		name, golden string
		render       func(Spec) string
		spec         Spec
	}{
		{"the systemd unit restarts always and hardens what the checks allow", "postern-agent.service", SystemdUnit, linuxSpec},
		{"a unit for paths with spaces and dollars quotes and escapes them", "spaces.service", SystemdUnit,
			Spec{Executable: "/opt/Postern Agent/postern-agent", StateDir: "/var/lib/post$ern"}},
		{"the launchd plist runs at load and keeps the daemon alive", "dev.postern.agent.plist", LaunchdPlist,
			Spec{Executable: "/usr/local/bin/postern-agent", StateDir: "/Library/Application Support/Postern"}},
		{"a plist escapes XML in paths", "escaped.plist", LaunchdPlist,
			Spec{Executable: "/Applications/A&B <x>/postern-agent", StateDir: "/tmp/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.render(tt.spec)
			golden(t, tt.golden, got)
			// kardianos renders custom files with its template engine;
			// without an action the text is installed verbatim.
			if strings.Contains(got, "{{") {
				t.Error("rendered file contains a template action")
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, goos string
		wantName   string
		wantOpts   map[string]any
	}{
		{"windows starts automatically, delayed, and restarts on failure", "windows", Name, map[string]any{
			"StartType": "automatic", "DelayedAutoStart": true, "OnFailure": "restart",
			"OnFailureDelayDuration": "10s", "OnFailureResetPeriod": 86400}},
		{"macOS is a launchd daemon kept alive and run at load", "darwin", LaunchdLabel, map[string]any{
			"KeepAlive": true, "RunAtLoad": true, "LaunchdConfig": LaunchdPlist(linuxSpec)}},
		{"linux uses the tested systemd unit", "linux", Name, map[string]any{
			"Restart": "always", "SystemdScript": SystemdUnit(linuxSpec)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Config(linuxSpec, tt.goos)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.wantName || c.Executable != linuxSpec.Executable {
				t.Errorf("name %q executable %q", c.Name, c.Executable)
			}
			if diff := cmp.Diff([]string{"run", "--service", "--state", "/var/lib/postern"}, c.Arguments); diff != "" {
				t.Errorf("arguments (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOpts, map[string]any(c.Option)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("an unsupported OS is refused", func(t *testing.T) {
		if _, err := Config(linuxSpec, "plan9"); err == nil {
			t.Error("no error")
		}
	})
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"absolute paths are accepted", linuxSpec, ""},
		{"a relative executable is refused", Spec{Executable: "postern-agent", StateDir: "/s"}, "not an absolute path"},
		{"an empty state dir is refused", Spec{Executable: "/a"}, "empty path"},
		{"a newline that would inject a directive is refused", Spec{Executable: "/a\nExecStartPre=/bin/sh", StateDir: "/s"}, "cannot be quoted"},
		{"a template action is refused", Spec{Executable: "/a{{Name}}", StateDir: "/s"}, "cannot be quoted"},
		{"a percent sign is refused", Spec{Executable: "/a", StateDir: "/s%h"}, "cannot be quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// fakeCtl records calls and reports a settable status.
type fakeCtl struct {
	status kservice.Status
	err    error
	calls  []string
	// installErrs are returned by the first Install calls.
	installErrs []error
	// uninstallErr is returned by Uninstall.
	uninstallErr error
}

func (f *fakeCtl) Install() error {
	f.calls = append(f.calls, "install")
	if len(f.installErrs) > 0 {
		err := f.installErrs[0]
		f.installErrs = f.installErrs[1:]
		return err
	}
	return nil
}
func (f *fakeCtl) Uninstall() error { f.calls = append(f.calls, "uninstall"); return f.uninstallErr }
func (f *fakeCtl) Start() error     { f.calls = append(f.calls, "start"); return nil }
func (f *fakeCtl) Stop() error      { f.calls = append(f.calls, "stop"); return nil }
func (f *fakeCtl) Status() (kservice.Status, error) {
	return f.status, f.err
}

func TestInstallUpdatesAnInstalledServiceInPlaceWhereItCan(t *testing.T) {
	ctl := &fakeCtl{status: kservice.StatusRunning}
	m := &Manager{ctl: ctl, update: func() (bool, error) { return true, nil }}
	if err := m.Install(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"stop", "start"}, ctl.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestInstallWaitsForAServiceBeingDeleted(t *testing.T) {
	marked := errors.New("The specified service has been marked for deletion.")
	ctl := &fakeCtl{err: kservice.ErrNotInstalled, installErrs: []error{marked, errors.New("service postern-agent already exists")}}
	var slept int
	m := &Manager{ctl: ctl, sleep: func(time.Duration) { slept++ }}
	if err := m.Install(); err != nil {
		t.Fatal(err)
	}
	if slept != 2 || len(ctl.calls) != 4 || ctl.calls[3] != "start" {
		t.Errorf("slept %d, calls %v", slept, ctl.calls)
	}
	t.Run("a service deleted while its process still runs is waited for, then installed afresh (Wine 10: ERROR_INVALID_LEVEL)", func(t *testing.T) {
		ctl := &fakeCtl{status: kservice.StatusStopped}
		updates := 0
		update := func() (bool, error) {
			updates++
			if updates == 2 {
				ctl.err = kservice.ErrNotInstalled // the deletion finished
			}
			return false, fmt.Errorf("read service config: %w", syscall.Errno(124))
		}
		slept := 0
		m := &Manager{ctl: ctl, update: update, sleep: func(time.Duration) { slept++ }}
		if err := m.Install(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"install", "start"}, ctl.calls); diff != "" || slept != 2 {
			t.Errorf("slept %d, calls (-want +got):\n%s", slept, diff)
		}
	})
	t.Run("ERROR_SERVICE_MARKED_FOR_DELETE from the update is waited for too", func(t *testing.T) {
		if !transient(fmt.Errorf("update service config: %w", syscall.Errno(1072))) {
			t.Error("not transient")
		}
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		ctl := &fakeCtl{err: kservice.ErrNotInstalled, installErrs: []error{errors.New("access denied")}}
		if err := (&Manager{ctl: ctl, sleep: func(time.Duration) { t.Fatal("slept") }}).Install(); err == nil {
			t.Error("no error")
		}
	})
}

func TestManager(t *testing.T) {
	tests := []struct {
		name      string
		ctl       *fakeCtl
		op        func(*Manager) error
		wantCalls []string
	}{
		{"a fresh install installs and starts", &fakeCtl{err: kservice.ErrNotInstalled},
			(*Manager).Install, []string{"install", "start"}},
		{"installing over a running service is an upgrade that replaces it", &fakeCtl{status: kservice.StatusRunning},
			(*Manager).Install, []string{"stop", "uninstall", "install", "start"}},
		{"installing over a stopped service replaces it without stopping", &fakeCtl{status: kservice.StatusStopped},
			(*Manager).Install, []string{"uninstall", "install", "start"}},
		{"uninstall stops a running service first", &fakeCtl{status: kservice.StatusRunning},
			(*Manager).Uninstall, []string{"stop", "uninstall"}},
		{"uninstalling what is not installed does nothing", &fakeCtl{err: kservice.ErrNotInstalled},
			(*Manager).Uninstall, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(&Manager{ctl: tt.ctl}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCalls, tt.ctl.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("status maps the service manager's answers", func(t *testing.T) {
		for _, c := range []struct {
			ctl  *fakeCtl
			want State
		}{
			{&fakeCtl{status: kservice.StatusRunning}, StateRunning},
			{&fakeCtl{status: kservice.StatusStopped}, StateStopped},
			{&fakeCtl{err: kservice.ErrNotInstalled}, StateNotInstalled},
		} {
			if got, err := (&Manager{ctl: c.ctl}).Status(); err != nil || got != c.want {
				t.Errorf("status = %q, %v; want %q", got, err, c.want)
			}
		}
		got, err := (&Manager{ctl: &fakeCtl{err: errors.New("no systemd")}}).Status()
		if got != StateUnknown || err == nil {
			t.Errorf("status = %q, %v; want unknown and an error", got, err)
		}
	})
}

func TestProgram(t *testing.T) {
	t.Run("stop cancels the run loop and waits for it", func(t *testing.T) {
		ended := make(chan struct{})
		p := &program{parent: context.Background(), fn: func(ctx context.Context) error {
			<-ctx.Done()
			close(ended)
			return nil
		}}
		if err := p.Start(nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ended:
		default:
			t.Fatal("Stop returned before the run loop ended")
		}
	})
	t.Run("a run loop that fails on its own ends the process for a restart", func(t *testing.T) {
		code := make(chan int, 1)
		exit = func(c int) { code <- c }
		t.Cleanup(func() { exit = os.Exit })
		p := &program{parent: context.Background(), fn: func(context.Context) error { return errors.New("boom") }}
		if err := p.Start(nil); err != nil {
			t.Fatal(err)
		}
		if c := <-code; c != 2 {
			t.Errorf("exit code %d", c)
		}
		if p.result() == nil {
			t.Error("error not kept")
		}
	})
}

func TestStoppingWaitsForTheServiceProcessToEnd(t *testing.T) {
	ops := map[string]func(*Manager) error{
		"uninstall": (*Manager).Uninstall,
		"replace":   (*Manager).Install,
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			ctl := &fakeCtl{status: kservice.StatusRunning}
			waiter := func() func() {
				ctl.calls = append(ctl.calls, "find process")
				return func() { ctl.calls = append(ctl.calls, "process ended") }
			}
			if err := op(&Manager{ctl: ctl, exitWaiter: waiter}); err != nil {
				t.Fatal(err)
			}
			// The process is found while it runs, and the delete comes only
			// after it ended (else Windows leaves the service marked for
			// deletion and the next install waits or fails).
			want := []string{"find process", "stop", "process ended", "uninstall"}
			if diff := cmp.Diff(want, ctl.calls[:4]); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstallGoesOnWhenTheDeletionFinishesMidReplace(t *testing.T) {
	ctl := &fakeCtl{status: kservice.StatusStopped}
	// The update meets the deletion; by the time the replace deletes the
	// service it is gone (Wine: "service postern-agent is not installed").
	update := func() (bool, error) {
		ctl.err = kservice.ErrNotInstalled
		return false, nil
	}
	ctl.uninstallErr = errors.New("service postern-agent is not installed")
	if err := (&Manager{ctl: ctl, update: update}).Install(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"uninstall", "install", "start"}, ctl.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestInstallRetriesAStopRefusedBetweenStates(t *testing.T) {
	ctl := &stopRefusingCtl{fakeCtl: fakeCtl{status: kservice.StatusRunning}, refusals: 2}
	slept := 0
	m := &Manager{ctl: ctl, update: func() (bool, error) { return true, nil }, sleep: func(time.Duration) { slept++ }}
	if err := m.Install(); err != nil {
		t.Fatal(err)
	}
	if slept != 2 {
		t.Errorf("slept %d times, want 2 (one per refused stop)", slept)
	}
}

// stopRefusingCtl refuses the first stops as a service in STOP_PENDING
// does (ERROR_INVALID_SERVICE_CONTROL, seen under Wine).
type stopRefusingCtl struct {
	fakeCtl
	refusals int
}

func (c *stopRefusingCtl) Stop() error {
	if c.refusals > 0 {
		c.refusals--
		return fmt.Errorf("stop: %w", syscall.Errno(1052))
	}
	return c.fakeCtl.Stop()
}
