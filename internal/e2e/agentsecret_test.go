package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	wallclock "github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// TestOnlyTheAgentReportsForTheDevice plays a program of the console user
// that can use the device key (on Linux a TPM key serves the browser
// through the key socket) but cannot read the agent's root-only secret:
// it must not get a reporting connection, not even with a proof it saw
// on the agent's own connection, while the agent keeps reporting across a
// server restart and a certificate renewal.
func TestOnlyTheAgentReportsForTheDevice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	data, stateDir := t.TempDir(), t.TempDir()
	srv := startServer(t, ctx, data, clk)
	if _, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr,
		Token: srv.Cmd(t, "token", "create"), Host: snapshot(t, "linux-compliant"), Now: clk.Now}); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	secretFile := filepath.Join(stateDir, state.AgentSecretFile)
	secret, err := os.ReadFile(secretFile)
	if err != nil || len(secret) != pb.AgentSecretSize {
		t.Fatalf("agent secret: %d bytes, %v", len(secret), err)
	}
	if fi, _ := os.Stat(secretFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("agent secret mode %v, want 0600", fi.Mode().Perm())
	}
	dir, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := dir.LoadCredentials()
	if err != nil {
		t.Fatal(err)
	}
	report(t, ctx, stateDir, snapshot(t, "linux-compliant"), clk)

	t.Run("the device certificate and key without the secret are refused", func(t *testing.T) {
		_, err := client.Dial(ctx, client.SessionConfig{Addr: srv.QUICAddr, Certificate: creds.Certificate, CA: creds.CA, Now: clk.Now})
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != "agent_secret_invalid" {
			t.Fatalf("err = %v, want agent_secret_invalid", err)
		}
		if out := srv.Cmd(t, "audit", "export"); !strings.Contains(out, "agent_proof_refused") {
			t.Errorf("refusal not audited:\n%s", out)
		}
	})

	t.Run("a proof seen on the agent's connection is refused on another", func(t *testing.T) {
		dial := func() (*quic.Conn, *quic.Stream) {
			t.Helper()
			tc := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{pb.ALPN}, MinVersion: tls.VersionTLS13,
				Certificates: []tls.Certificate{creds.Certificate}}
			conn, err := quic.DialAddr(ctx, srv.QUICAddr, tc, &quic.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.CloseWithError(0, "") })
			str, err := conn.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return conn, str
		}
		agentConn, agentStr := dial()
		proof, err := pb.AgentProof(secret, agentConn.ConnectionState().TLS)
		if err != nil {
			t.Fatal(err)
		}
		hello := &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion, AgentProof: proof}}}
		exchange := func(str *quic.Stream) *pb.Envelope {
			t.Helper()
			if err := pb.WriteMsg(str, hello); err != nil {
				t.Fatal(err)
			}
			str.SetReadDeadline(time.Now().Add(20 * time.Second)) // wall clock: a network deadline
			env, err := pb.ReadMsg(str)
			if err != nil {
				t.Fatal(err)
			}
			return env
		}
		if env := exchange(agentStr); env.GetHello() == nil {
			t.Fatalf("the proof on its own connection: %v", env)
		}
		_, thief := dial()
		if env := exchange(thief); env.GetError().GetCode() != "agent_secret_invalid" {
			t.Fatalf("the replayed proof: %v, want agent_secret_invalid", env)
		}
	})

	t.Run("the agent keeps reporting after a server restart and a renewal, with the same secret", func(t *testing.T) {
		srv.Stop()
		srv2 := startServer(t, ctx, data, clk)
		rewriteServer(t, stateDir, srv2.QUICAddr)
		report(t, ctx, stateDir, snapshot(t, "linux-compliant"), clk)

		renewed := make(chan struct{}, 1)
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-compliant"), Clock: clk.Now,
			AckTimeout: 20 * time.Second, OnRenewed: func(context.Context) { renewed <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		old := creds.Certificate.Leaf
		for {
			left := old.NotAfter.Sub(clk.Now())
			if left <= 10*24*time.Hour {
				break
			}
			clk.Advance(min(80*24*time.Hour, left-10*24*time.Hour))
			if res, err := r.Once(ctx); err != nil || res.Ack == nil {
				t.Fatalf("run --once: %v", err)
			}
		}
		select {
		case <-renewed:
		default:
			t.Fatal("no renewal")
		}
		after, err := dir.LoadCredentials()
		if err != nil {
			t.Fatal(err)
		}
		if !after.Certificate.Leaf.NotAfter.After(old.NotAfter) {
			t.Fatalf("certificate not renewed: not after %v", after.Certificate.Leaf.NotAfter)
		}
		if !bytes.Equal(after.AgentSecret, secret) {
			t.Fatal("the renewal changed the agent secret")
		}
		report(t, ctx, stateDir, snapshot(t, "linux-compliant"), clk)
	})
}
