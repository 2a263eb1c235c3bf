package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/output"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/spool"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	wallclock "github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/testserver"
)

// agentStatus runs `postern-agent status --json` and returns its exit
// code, the status and the text form.
func agentStatus(t *testing.T, ctx context.Context, stateDir string, clk *clock) (int, output.Status, string) {
	t.Helper()
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		f := &agentcli.Factory{Out: &out, ErrOut: &errOut, Color: func() bool { return false }, Now: clk.Now,
			LiveHost: func() host.Host { return host.NewFake("linux", "amd64") },
			Device:   func(context.Context, host.Host) checks.Device { return checks.Device{} }}
		code := agentcli.Main(ctx, f, append(args, "--state", stateDir))
		return code, out.String()
	}
	code, js := run("status", "--json")
	var s output.Status
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatalf("status --json: %v: %s", err, js)
	}
	textCode, text := run("status")
	if textCode != code {
		t.Errorf("status exits %d, status --json %d", textCode, code)
	}
	return code, s, text
}

func TestAgentStatusShowsTheServersDecision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	data, stateDir := t.TempDir(), t.TempDir()
	// No attestation required, so that the exceptions alone decide.
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML + "attestation: {required: false}\n", Now: clk.Now, DataDir: data})
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr, Token: token,
		Host: snapshot(t, "linux-noncompliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	query := "device_id=" + id.DeviceID

	t.Run("a failing device's status is the server's deny, and exits 1", func(t *testing.T) {
		report(t, ctx, stateDir, snapshot(t, "linux-noncompliant"), clk)
		d := srv.Decision(t, key, query)
		code, s, text := agentStatus(t, ctx, stateDir, clk)
		if d.Allow || code != 1 || s.Access.Allowed || s.Access.Source != "server" || s.ServerDecision == nil {
			t.Fatalf("decision allow=%v; status exit %d access %+v", d.Allow, code, s.Access)
		}
		var got []string
		for _, r := range s.ServerDecision.Reasons {
			got = append(got, r.Code+":"+r.Control)
		}
		if strings.Join(got, " ") != strings.Join(d.Codes(), " ") {
			t.Errorf("status reasons %v, the decision API's %v", got, d.Codes())
		}
		if !strings.Contains(text, "IBHIS access: blocked") {
			t.Errorf("status text:\n%s", text)
		}
	})

	t.Run("with every failing control waived the status says allowed by exception, like the gateway", func(t *testing.T) {
		d := srv.Decision(t, key, query)
		for _, r := range d.Reasons {
			// Without --approver the OS account that ran it is recorded.
			srv.CmdAt(t, clk.Now, "exception", "grant", "--device", id.DeviceID, "--control", r.Control, "--reason", "replacement laptop ordered",
				"--for", "72h")
		}
		// The server rereads exceptions made from the command line
		// within seconds.
		deadline := time.Now().Add(30 * time.Second)
		for !srv.Decision(t, key, query).Allow {
			if time.Now().After(deadline) {
				t.Fatalf("the exceptions never applied: %+v\n%s", srv.Decision(t, key, query), srv.Cmd(t, "exception", "list"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		clk.Advance(time.Minute)
		res := report(t, ctx, stateDir, snapshot(t, "linux-noncompliant"), clk)
		if res.Compliant {
			t.Fatal("the local check passed; the test needs a failing machine")
		}
		code, s, text := agentStatus(t, ctx, stateDir, clk)
		if code != 0 || !s.Access.Allowed || s.Access.State != "allowed_by_exception" || !srv.Decision(t, key, query).Allow {
			t.Fatalf("status exit %d access %+v", code, s.Access)
		}
		if !strings.Contains(text, "IBHIS access: allowed by exception") {
			t.Errorf("status text:\n%s", text)
		}
	})

	t.Run("a revoked device's agent says so in plain words and stops reporting", func(t *testing.T) {
		srv.Cmd(t, "device", "revoke", id.DeviceID, "--reason", "laptop stolen", "--by", "security.team")
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-noncompliant"), Clock: clk.Now, AckTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Once(ctx)
		var re *runner.RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "revoked") || strings.Contains(err.Error(), "CRYPTO_ERROR") {
			t.Fatalf("run --once: %v, want a plain refusal saying revoked", err)
		}
		code, s, text := agentStatus(t, ctx, stateDir, clk)
		if code != 1 || s.Access.Allowed || s.Refused == nil || s.Refused.Reason != state.RefusedRevoked {
			t.Fatalf("status exit %d access %+v refused %+v", code, s.Access, s.Refused)
		}
		if !strings.Contains(text, "revoked this device's enrollment") || strings.Contains(text, "password") {
			t.Errorf("status text:\n%s", text)
		}
		// The daemon neither dials nor keeps reports any more.
		dir, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := spool.Open(dir.File(state.SpoolDir), spool.Options{})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := sp.Len()
		dials := 0
		d, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-noncompliant"), Clock: clk.Now,
			Interval: time.Hour, Dial: func(context.Context) (runner.Conn, error) { dials++; return nil, errors.New("dialled") }})
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithTimeout(ctx, 2*time.Second)
		defer stop()
		if err := d.Run(rctx); err != nil {
			t.Fatal(err)
		}
		after, _ := sp.Len()
		if dials != 0 || after != before {
			t.Errorf("after the refusal the daemon dialled %d times and the spool went from %d to %d reports", dials, before, after)
		}
	})
}
