package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	wallclock "github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/testserver"
)

// clock is a settable clock shared by server and agent.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// policyYAML is the Policy 550.04 default except for the three controls
// whose verdict depends on today's date (definition age, end-of-life
// dates, pending-update age): the fixture snapshots were recorded on a
// fixed day, so those are reported without blocking to keep the test true
// on any future day. Every other control blocks as in production.
const policyYAML = `max_report_age: 15m
controls:
  antivirus: {enforcement: report}
  os_supported: {enforcement: report}
  os_patched: {enforcement: report}
`

// startServer runs a server on data with the e2e policy and clk.
func startServer(t *testing.T, ctx context.Context, data string, clk *clock) *testserver.Server {
	t.Helper()
	return testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, Now: clk.Now, DataDir: data})
}

// snapshot opens a recorded machine under checks/testdata/snapshots.
func snapshot(t *testing.T, name string) host.Host {
	t.Helper()
	return testserver.Snapshot(t, name)
}

func report(t *testing.T, ctx context.Context, stateDir string, h host.Host, clk *clock) runner.Result {
	t.Helper()
	r, err := runner.New(runner.Config{StateDir: stateDir, Host: h, Clock: clk.Now, AckTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Once(ctx)
	if err != nil {
		t.Fatalf("run --once: %v", err)
	}
	if res.Ack == nil || res.Ack.Sequence != res.Sequence {
		t.Fatalf("report %d was not acked: %+v", res.Sequence, res.Ack)
	}
	return res
}

func TestAgentEnrollsReportsAndTheGatewayDecides(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	data, state := t.TempDir(), t.TempDir()
	srv := startServer(t, ctx, data, clk)
	token := srv.Cmd(t, "token", "create")
	key := srv.Cmd(t, "apikey", "create", "--name", "gateway")

	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: state, Server: srv.QUICAddr, Token: token,
		Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	query := "device_id=" + id.DeviceID

	t.Run("an unreported device is denied", func(t *testing.T) {
		d := srv.Decision(t, key, query)
		if d.Allow || len(d.Reasons) == 0 {
			t.Fatalf("got %+v, want a deny with a reason", d)
		}
	})

	t.Run("a compliant report is allowed", func(t *testing.T) {
		res := report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		d := srv.Decision(t, key, query)
		if !d.Allow {
			t.Fatalf("got deny %v; agent saw %v", d.Codes(), statuses(res.Verdicts))
		}
		if d.DeviceID != id.DeviceID || d.EvaluatedAt == "" || d.PostureAge == nil {
			t.Errorf("decision lacks its fields: %+v", d)
		}
	})

	t.Run("the same device by certificate hash gets the same answer", func(t *testing.T) {
		d := srv.Decision(t, key, "cert_sha256="+id.CertSHA256)
		if !d.Allow || d.DeviceID != id.DeviceID {
			t.Fatalf("got %+v", d)
		}
	})

	t.Run("a non-compliant report is denied with the failing controls as reasons", func(t *testing.T) {
		clk.Advance(time.Minute)
		report(t, ctx, state, snapshot(t, "linux-noncompliant"), clk)
		d := srv.Decision(t, key, query)
		want := []string{
			"control_failed:password_protected", "control_failed:password_policy", "control_failed:firewall",
			"control_failed:os_auto_update", "control_failed:screen_lock", "control_failed:wifi_encryption",
			"control_failed:disk_encryption",
		}
		if d.Allow || fmt.Sprint(d.Codes()) != fmt.Sprint(want) {
			t.Fatalf("got allow=%v reasons %v, want deny for %v", d.Allow, d.Codes(), want)
		}
		for _, r := range d.Reasons {
			if r.Message == "" || r.Remediation == "" {
				t.Errorf("reason %s:%s lacks a message or a fix: %+v", r.Code, r.Control, r)
			}
		}
	})

	t.Run("compliant again, then silent: denied as stale once past the limit", func(t *testing.T) {
		clk.Advance(time.Minute)
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := srv.Decision(t, key, query); !d.Allow {
			t.Fatalf("back to compliant: got %v", d.Codes())
		}
		clk.Advance(14 * time.Minute)
		if d := srv.Decision(t, key, query); !d.Allow {
			t.Fatalf("14 minutes old: got %v", d.Codes())
		}
		clk.Advance(2 * time.Minute)
		d := srv.Decision(t, key, query)
		if d.Allow || fmt.Sprint(d.Codes()) != "[report_stale:]" {
			t.Fatalf("16 minutes old: got allow=%v %v, want deny report_stale", d.Allow, d.Codes())
		}
	})

	t.Run("after a restart on the same data dir the device, posture and key survive", func(t *testing.T) {
		srv.Stop()
		clk.Advance(time.Minute)
		srv2 := startServer(t, ctx, data, clk)
		if d := srv2.Decision(t, key, query); d.Allow || fmt.Sprint(d.Codes()) != "[report_stale:]" {
			t.Fatalf("after restart: got allow=%v %v, want the stale posture still there", d.Allow, d.Codes())
		}
		// The agent finds the restarted server at its new port.
		rewriteServer(t, state, srv2.QUICAddr)
		report(t, ctx, state, snapshot(t, "linux-compliant"), clk)
		if d := srv2.Decision(t, key, query); !d.Allow {
			t.Fatalf("fresh report after restart: got %v", d.Codes())
		}

		// A gateway has seen every change so far: event IDs are audit
		// log seqs, which survive restarts, so it resumes from the last.
		// (The changes: first report, failing report, compliant again,
		// stale, fresh report after the restart.)
		seen := waitForEvents(t, ctx, srv2, key, "1", id.DeviceID, 5)
		last := seen[len(seen)-1]
		if last.CurrentStatus != "compliant" {
			t.Fatalf("the last change = %+v, want the fresh report's", last)
		}

		// The server is down while the posture goes stale: the restarted
		// server announces the change to a gateway resuming its stream.
		srv2.Stop()
		clk.Advance(20 * time.Minute)
		srv3 := startServer(t, ctx, data, clk)
		ev := waitForEvent(t, ctx, srv3, key, last.ID, id.DeviceID)
		if ev.PreviousStatus != "compliant" || ev.CurrentStatus != "not-compliant" || fmt.Sprint(ev.ReasonCodes) != "[report_stale]" {
			t.Errorf("event after restart = %+v", ev)
		}
	})
}

// streamEvent is the part of a /v1/events data line the tests read.
type streamEvent struct {
	ID             string   `json:"id"`
	EventType      string   `json:"event_type"`
	DeviceID       string   `json:"device_id"`
	PreviousStatus string   `json:"previous_status"`
	CurrentStatus  string   `json:"current_status"`
	ReasonCodes    []string `json:"reason_codes"`
}

// waitForEvent reads GET /v1/events resuming after lastID until a
// compliance change of device arrives (or 15 s pass).
func waitForEvent(t *testing.T, ctx context.Context, srv *testserver.Server, apiKey, lastID, device string) streamEvent {
	t.Helper()
	return waitForEvents(t, ctx, srv, apiKey, lastID, device, 1)[0]
}

// waitForEvents is waitForEvent for the first n compliance changes.
func waitForEvents(t *testing.T, ctx context.Context, srv *testserver.Server, apiKey, lastID, device string, n int) []streamEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+srv.HTTPSAddr+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Last-Event-ID", lastID)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	var got []streamEvent
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev streamEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		if ev.DeviceID == device && strings.HasSuffix(ev.EventType, "device-compliance-change") {
			if got = append(got, ev); len(got) == n {
				return got
			}
		}
	}
	t.Fatalf("%d of %d compliance changes of %s on the stream: %v", len(got), n, device, sc.Err())
	return nil
}

func statuses(vs []checks.Verdict) map[checks.ControlID]checks.Status {
	out := map[checks.ControlID]checks.Status{}
	for _, v := range vs {
		out[v.ID] = v.Status
	}
	return out
}

// rewriteServer points the agent's identity at a new server address, as an
// administrator would after moving the server.
func rewriteServer(t *testing.T, state, addr string) {
	t.Helper()
	p := filepath.Join(state, "identity.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["server"] = addr
	b, _ = json.Marshal(m)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
