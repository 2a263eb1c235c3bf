package gatewaytest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/postern-dev/postern/gateway"
	"github.com/postern-dev/postern/internal/testserver"
)

// gatewayClient returns a gateway client for the server with a new API key.
func gatewayClient(t testing.TB, s *testserver.Server) *gateway.Client {
	t.Helper()
	key := s.Cmd(t, "apikey", "create", "--name", "gateway")
	c, err := gateway.New("https://"+s.HTTPSAddr, key, gateway.WithRootCAs(s.CAPool()), gateway.WithReconnect(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextEvent returns the next event, failing at the deadline.
func nextEvent(t *testing.T, ctx context.Context, ch <-chan gateway.Event) gateway.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("event stream closed")
		}
		return e
	case <-ctx.Done():
		t.Fatal("no event before the deadline")
	}
	return gateway.Event{}
}

func TestReportFlipsDeviceOnTheEventStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	state, id := enroll(t, ctx, srv, "linux-compliant")
	c := gatewayClient(t, srv)
	if d, err := c.Decide(ctx, gateway.DeviceQuery{DeviceID: id}); err != nil || !d.Allow {
		t.Fatalf("before the flip: %+v, %v", d, err)
	}
	ch := c.Events(ctx)
	// The stream connects in the background. Flip the device until the
	// stream shows the flip to not-compliant: the first flip may precede
	// the subscription.
	var got gateway.Event
	for compliant := false; ; compliant = !compliant {
		snap := "linux-compliant"
		if !compliant {
			snap = "linux-noncompliant"
		}
		report(t, ctx, state, snap)
		select {
		case got = <-ch:
		case <-time.After(3 * time.Second):
			continue
		}
		if got.CurrentStatus == gateway.StatusNotCompliant {
			break
		}
	}
	t.Run("the event names the device, both statuses and the failing controls", func(t *testing.T) {
		if got.EventType != gateway.EventComplianceChange || got.DeviceID != id || got.CertSHA256 == "" ||
			got.PreviousStatus != gateway.StatusCompliant || !got.EndsSessions() {
			t.Errorf("event %+v", got)
		}
		for _, want := range []string{"control_failed:firewall", "control_failed:disk_encryption"} {
			if !slices.Contains(got.ReasonCodes, want) {
				t.Errorf("reason codes %v lack %s", got.ReasonCodes, want)
			}
		}
	})
	t.Run("the next compliant report flips it back, in order", func(t *testing.T) {
		report(t, ctx, state, "linux-compliant")
		e := nextEvent(t, ctx, ch)
		prev, _ := strconv.ParseUint(got.ID, 10, 64)
		next, _ := strconv.ParseUint(e.ID, 10, 64)
		if e.CurrentStatus != gateway.StatusCompliant || e.PreviousStatus != gateway.StatusNotCompliant || next <= prev {
			t.Errorf("event %+v after %s", e, got.ID)
		}
	})
}

// BenchmarkReportToEvent measures the time from an agent's report (sent
// and acknowledged over QUIC) to the decision change arriving on a
// gateway's event stream over HTTPS. Each iteration flips the device.
func BenchmarkReportToEvent(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := startServer(b, ctx)
	state, _ := enroll(b, ctx, srv, "linux-compliant")
	c := gatewayClient(b, srv)
	ch := c.Events(ctx)
	compliant := true
	flip := func() time.Duration {
		compliant = !compliant
		snap := map[bool]string{true: "linux-compliant", false: "linux-noncompliant"}[compliant]
		start := time.Now()
		report(b, ctx, state, snap)
		for {
			select {
			case e := <-ch:
				if (e.CurrentStatus == gateway.StatusCompliant) == compliant {
					return time.Since(start)
				}
			case <-time.After(5 * time.Second):
				return -1
			}
		}
	}
	for flip() < 0 { // until the stream is connected
	}
	var total, worst time.Duration
	b.ResetTimer()
	for range b.N {
		d := flip()
		if d < 0 {
			b.Fatal("no event within 5 s")
		}
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/report_to_event")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max_ms")
}
