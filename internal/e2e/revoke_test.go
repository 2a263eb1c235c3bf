package e2e

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	wallclock "github.com/postern-dev/postern/internal/clock"
)

// revokeLimit bounds the time from a revocation written by another
// process to the agent's disconnection: the server polls every 2 s.
const revokeLimit = 15 * time.Second

func TestRevocationFromTheCommandLineCutsTheLiveAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	stateDir := t.TempDir()
	srv := startServer(t, ctx, t.TempDir(), clk)
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr, Token: token,
		Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	report(t, ctx, stateDir, snapshot(t, "linux-compliant"), clk)

	req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+srv.HTTPSAddr+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	dir, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := dir.LoadCredentials()
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.Dial(ctx, client.SessionConfig{Addr: srv.QUICAddr, Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret, Now: clk.Now})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer s.Close()

	began := time.Now()
	srv.Cmd(t, "device", "revoke", id.DeviceID, "--reason", "laptop stolen", "--by", "e2e")

	t.Run("the agent's session ends with the permanent device_revoked error", func(t *testing.T) {
		select {
		case <-s.Done():
		case <-time.After(revokeLimit):
			t.Fatalf("the session was still open %v after the revocation", revokeLimit)
		}
		t.Logf("revoke (CLI) to agent disconnected: %v", time.Since(began))
		var se *client.ServerError
		if !errors.As(s.Err(), &se) || se.Code != client.CodeDeviceRevoked || !se.Permanent() {
			t.Fatalf("Err = %v, want the permanent device_revoked", s.Err())
		}
	})
	t.Run("the event stream announces the device's new deny", func(t *testing.T) {
		found := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if l := sc.Text(); strings.HasPrefix(l, "data: ") && strings.Contains(l, id.DeviceID) && strings.Contains(l, "device_revoked") {
					found <- true
					return
				}
			}
			found <- false
		}()
		select {
		case ok := <-found:
			if !ok {
				t.Fatal("the event stream ended without the device's change")
			}
		case <-time.After(revokeLimit):
			t.Fatal("no change event for the revoked device")
		}
	})
	t.Run("the agent cannot connect again", func(t *testing.T) {
		_, err := client.Dial(ctx, client.SessionConfig{Addr: srv.QUICAddr, Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret, Now: clk.Now})
		if err == nil {
			t.Fatal("a revoked device connected")
		}
	})
}
