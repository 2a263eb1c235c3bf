package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/state"
)

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestProvisioningFiles(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	write := func(t *testing.T, path, body string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("the service takes over the files left by configuration management, deletes the secret and enrolls", func(t *testing.T) {
		stateDir, etc := t.TempDir(), t.TempDir()
		write(t, filepath.Join(etc, ProvisionServerFile), " gw:4433 \n")
		write(t, filepath.Join(etc, ProvisionTokenFile), testSecret+"\n")
		fe := &fakeEnroller{dir: stateDir, answers: []error{nil}}
		w := &enrollWaiter{stateDir: stateDir, log: slog.New(slog.DiscardHandler), poll: time.Hour, enroll: fe.enroll,
			now: func() time.Time { return start }, min: time.Second, max: time.Hour, provisionDir: etc}
		if err := w.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if fe.calls != 1 {
			t.Errorf("enroll called %d times", fe.calls)
		}
		d, _ := state.Open(stateDir)
		if id, err := d.LoadIdentity(); err != nil || id.Server != "gw:4433" {
			t.Errorf("identity %+v, %v", id, err)
		}
		if exists(filepath.Join(etc, ProvisionTokenFile)) {
			t.Error("the secret is still in the provisioning directory")
		}
		if p, _ := d.PendingEnrollment(); p != nil {
			t.Errorf("the secret is still in the state directory: %+v", p)
		}
	})
	t.Run("an enrolled device keeps its identity and the left-over secret is deleted", func(t *testing.T) {
		stateDir, etc := t.TempDir(), t.TempDir()
		d, _ := state.Open(stateDir)
		write(t, d.File(state.IdentityFile), `{"device_id":"d0","server":"old:1"}`)
		write(t, filepath.Join(etc, ProvisionServerFile), "gw:4433\n")
		write(t, filepath.Join(etc, ProvisionTokenFile), testSecret+"\n")
		fe := &fakeEnroller{dir: stateDir, answers: []error{nil}}
		w := &enrollWaiter{stateDir: stateDir, log: slog.New(slog.DiscardHandler), poll: time.Hour, enroll: fe.enroll, provisionDir: etc}
		if err := w.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if fe.calls != 0 {
			t.Errorf("an enrolled device enrolled again (%d calls)", fe.calls)
		}
		if id, _ := d.LoadIdentity(); id.DeviceID != "d0" {
			t.Errorf("identity replaced: %+v", id)
		}
		if exists(filepath.Join(etc, ProvisionTokenFile)) {
			t.Error("the left-over secret was kept")
		}
	})
	t.Run("half-written files are left for the next look", func(t *testing.T) {
		for name, files := range map[string]map[string]string{
			"no token yet":  {ProvisionServerFile: "gw:4433\n"},
			"no server yet": {ProvisionTokenFile: testSecret},
			"empty token":   {ProvisionServerFile: "gw:4433\n", ProvisionTokenFile: ""},
		} {
			etc := t.TempDir()
			for f, body := range files {
				write(t, filepath.Join(etc, f), body)
			}
			d, _ := state.Open(t.TempDir())
			imported, err := importProvision(etc, d, start)
			if err != nil || imported {
				t.Errorf("%s: imported=%v err=%v", name, imported, err)
			}
			for f := range files {
				if !exists(filepath.Join(etc, f)) {
					t.Errorf("%s: %s deleted", name, f)
				}
			}
		}
	})
	t.Run("a secret that cannot be deleted is not taken over again (its backoff is kept)", func(t *testing.T) {
		etc := t.TempDir()
		write(t, filepath.Join(etc, ProvisionServerFile), "gw:4433\n")
		write(t, filepath.Join(etc, ProvisionTokenFile), testSecret+"\n")
		// A read-only /etc (a unit without ReadWritePaths): root would
		// delete from a mode 0500 directory, so the removal is refused here.
		removeFile = func(string) error { return os.ErrPermission }
		t.Cleanup(func() { removeFile = os.Remove })
		d, _ := state.Open(t.TempDir())
		if imported, err := importProvision(etc, d, start); !imported || err == nil {
			t.Fatalf("first look: imported=%v err=%v, want imported and the deletion's error", imported, err)
		}
		if imported, _ := importProvision(etc, d, start.Add(time.Minute)); imported {
			t.Error("the same secret was taken over twice")
		}
		if p, _ := d.PendingEnrollment(); p == nil || !p.SavedAt.Equal(start) || p.Server != "gw:4433" || p.Secret != testSecret {
			t.Errorf("pending = %+v", p)
		}
	})
	t.Run("the provisioning directory is Linux's /etc/postern; elsewhere installers hand over the secret", func(t *testing.T) {
		if got := provisionDirFor("linux"); got != "/etc/postern" {
			t.Errorf("linux: %q", got)
		}
		for _, goos := range []string{"windows", "darwin"} {
			if got := provisionDirFor(goos); got != "" {
				t.Errorf("%s: %q", goos, got)
			}
		}
	})
}
