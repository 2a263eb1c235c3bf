package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func testFactory() (*Factory, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Factory{
		Out: &out, ErrOut: &errOut,
		Color:    func() bool { return false },
		Now:      func() time.Time { return t0 },
		LiveHost: func() host.Host { return host.NewFake("linux", "amd64") },
		Device: func(_ context.Context, h host.Host) checks.Device {
			return checks.Device{Hostname: "laptop-7", OS: h.GOOS(), OSName: "Debian GNU/Linux", OSVersion: "13", Arch: host.Arch(h)}
		},
	}, &out, &errOut
}

func TestCheckOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    CheckOptions
		wantErr string
	}{
		{"no flags use the default state dir", []string{}, CheckOptions{StateDir: state.DefaultDir()}, ""},
		{"every flag is parsed", []string{"--json", "--policy", "p.yaml", "--replay", "snap.tar.gz", "--state", "/tmp/s"},
			CheckOptions{StateDir: "/tmp/s", JSON: true, PolicyFile: "p.yaml", Replay: "snap.tar.gz"}, ""},
		{"record is parsed", []string{"--record", "out.tar.gz"}, CheckOptions{StateDir: state.DefaultDir(), Record: "out.tar.gz"}, ""},
		{"replay and record together are refused", []string{"--replay", "a", "--record", "b"}, CheckOptions{}, "cannot be used together"},
		{"an argument is refused", []string{"extra"}, CheckOptions{}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _ := testFactory()
			var got *CheckOptions
			cmd := NewCmdCheck(f, func(_ context.Context, o *CheckOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnrollRunStatusOptions(t *testing.T) {
	f, _, _ := testFactory()
	t.Run("enroll parses server, token and force", func(t *testing.T) {
		var got *EnrollOptions
		cmd := NewCmdEnroll(f, func(_ context.Context, o *EnrollOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--server", "posture.example:4433", "--token", "pt1.x.y", "--force", "--state", "/s"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Server != "posture.example:4433" || got.Token != "pt1.x.y" || !got.Force || got.StateDir != "/s" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("enroll reads the token from stdin with --token -", func(t *testing.T) {
		var got *EnrollOptions
		cmd := NewCmdEnroll(f, func(_ context.Context, o *EnrollOptions) error { got = o; return nil })
		cmd.SetIn(strings.NewReader("pt1.secret.pin\n"))
		cmd.SetArgs([]string{"--server", "h:1", "--token", "-"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Token != "pt1.secret.pin" {
			t.Errorf("token = %q", got.Token)
		}
	})
	for _, tt := range []struct {
		name, want string
		args       []string
	}{
		{"enroll without a token is refused", `[token secret] is required`, []string{"--server", "h:1"}},
		{"enroll with a server lacking a port is refused", "want HOST:PORT", []string{"--server", "h", "--token", "t"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := NewCmdEnroll(f, func(context.Context, *EnrollOptions) error { return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("run parses once, replay, timeout and the hidden interval", func(t *testing.T) {
		var got *RunOptions
		cmd := NewCmdRun(f, func(_ context.Context, o *RunOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--once", "--replay", "snap", "--interval", "2s", "--timeout", "30s", "--state", "/s"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		want := RunOptions{StateDir: "/s", Once: true, Replay: "snap", Interval: 2 * time.Second, Timeout: 30 * time.Second}
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !cmd.Flags().Lookup("interval").Hidden {
			t.Error("--interval is not hidden")
		}
	})
	t.Run("status parses json", func(t *testing.T) {
		var got *StatusOptions
		cmd := NewCmdStatus(f, func(_ context.Context, o *StatusOptions) error { got = o; return nil })
		cmd.SetArgs([]string{"--json", "--state", "/s"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(StatusOptions{StateDir: "/s", JSON: true}, *got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestMainExitCodes(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "snap")
	fake := host.NewFake("linux", "amd64")
	fake.SetMeta(host.SnapshotMeta{RecordedAt: t0})
	if err := fake.Save(snap); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"a device with unknown controls is not compliant", []string{"check", "--replay", snap}, ExitNotCompliant, "NOT COMPLIANT", ""},
		{"a missing snapshot is an error", []string{"check", "--replay", filepath.Join(t.TempDir(), "none")}, ExitError, "", "open snapshot"},
		{"a bad policy file is an error naming its line", []string{"check", "--policy", writeFile(t, "max_age: 5m\n")}, ExitError, "", "policy line 1"},
		{"an unknown command is a usage error", []string{"frobnicate"}, ExitUsage, "", "unknown command"},
		{"an unknown flag is a usage error", []string{"status", "--bogus"}, ExitUsage, "", "unknown flag"},
		{"a bad duration is a usage error", []string{"run", "--interval", "soon"}, ExitUsage, "", "invalid duration"},
		{"--replay with --record is a usage error", []string{"check", "--replay", snap, "--record", "x"}, ExitUsage, "", "cannot be used together"},
		{"version prints the protocol", []string{"version"}, ExitOK, "protocol 1", ""},
		{"--version prints the version", []string{"--version"}, ExitOK, "postern-agent ", ""},
		{"status of a fresh state dir says not enrolled and exits 1", []string{"status", "--state", filepath.Join(t.TempDir(), "absent")}, ExitNotCompliant, "not enrolled", ""},
		{"run --once without enrollment fails", []string{"run", "--once", "--state", t.TempDir(), "--timeout", "5s"}, ExitFailure, "", "not enrolled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, out, errOut := testFactory()
			code := Main(context.Background(), f, tt.args)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	}
	t.Run("check --json prints one object with the device from the snapshot", func(t *testing.T) {
		f, out, _ := testFactory()
		if code := Main(context.Background(), f, []string{"check", "--json", "--replay", snap}); code != ExitNotCompliant {
			t.Fatalf("exit %d", code)
		}
		var got struct {
			Device      checks.Device    `json:"device"`
			CollectedAt string           `json:"collected_at"`
			Compliant   bool             `json:"compliant"`
			Controls    []checks.Verdict `json:"controls"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Device.Hostname != "laptop-7" || got.CollectedAt != "2026-11-23T09:00:00Z" || got.Compliant || len(got.Controls) != len(checks.AllControlIDs) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("check --record writes a snapshot that replays", func(t *testing.T) {
		f, _, _ := testFactory()
		rec := filepath.Join(t.TempDir(), "rec.tar.gz")
		if code := Main(context.Background(), f, []string{"check", "--record", rec}); code != ExitNotCompliant {
			t.Fatalf("exit %d", code)
		}
		if _, err := host.OpenSnapshot(rec); err != nil {
			t.Fatal(err)
		}
	})
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnrollRefusesAnExistingIdentityBeforeDialing(t *testing.T) {
	dir := t.TempDir()
	d, _ := state.Open(dir)
	_ = os.WriteFile(d.File(state.IdentityFile), []byte(`{"device_id":"a","server":"s:1"}`), 0o600)
	f, _, _ := testFactory()
	// Port 1 on loopback: dialing would fail with a network error instead.
	_, err := Enroll(context.Background(), EnrollOptions{StateDir: dir, Server: "127.0.0.1:1", Token: "pt1.x.y", Host: f.LiveHost(), Device: f.Device})
	if !errors.Is(err, state.ErrAlreadyEnrolled) {
		t.Fatalf("err = %v, want ErrAlreadyEnrolled", err)
	}
}
