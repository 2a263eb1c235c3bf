package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/postern-dev/postern/agent/state"
)

func TestAttestCommand(t *testing.T) {
	t.Run("--accept without --user is refused", func(t *testing.T) {
		f, _, errOut := testFactory()
		if code := Main(context.Background(), f, []string{"attest", "--accept", "--state", t.TempDir()}); code != ExitError || !strings.Contains(errOut.String(), "--accept needs --user") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	})
	t.Run("enroll --accept without --attest-user is refused before dialing", func(t *testing.T) {
		f, _, errOut := testFactory()
		code := Main(context.Background(), f, []string{"enroll", "--server", "h:1", "--token", "x", "--accept", "--state", t.TempDir()})
		if code != ExitError || !strings.Contains(errOut.String(), "--accept needs --attest-user") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	})
	t.Run("an interactive acceptance is stored as pending", func(t *testing.T) {
		f, out, _ := testFactory()
		dir := t.TempDir()
		cmd := NewRootCmd(f)
		cmd.SetArgs([]string{"attest", "--state", dir})
		cmd.SetIn(strings.NewReader("Dana Ruiz\nyes\n"))
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		d, _ := state.Open(dir)
		p, err := d.PendingAttestation()
		if err != nil || p == nil || p.User != "Dana Ruiz" {
			t.Fatalf("pending = %+v, %v", p, err)
		}
		if !strings.Contains(out.String(), "accepted by Dana Ruiz") {
			t.Errorf("output %q", out.String())
		}
	})
	t.Run("a declined statement stores nothing", func(t *testing.T) {
		f, _, _ := testFactory()
		dir := t.TempDir()
		cmd := NewRootCmd(f)
		cmd.SetArgs([]string{"attest", "--state", dir, "--user", "dana"})
		cmd.SetIn(strings.NewReader("no\n"))
		if err := cmd.Execute(); err == nil {
			t.Fatal("a declined statement succeeded")
		}
		d, _ := state.Open(dir)
		if p, _ := d.PendingAttestation(); p != nil {
			t.Errorf("pending = %+v", p)
		}
	})
}
