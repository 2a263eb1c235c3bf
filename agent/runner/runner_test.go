package runner

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	pb "github.com/postern-dev/postern/proto"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// newRunner builds a runner on a fake host; opts adjust the config before
// New, so that everything New derives from it (the spool's clock among
// them) sees the adjusted values.
func newRunner(t *testing.T, dir string, srv *fakeServer, opts ...func(*Config)) *Runner {
	t.Helper()
	cfg := Config{
		StateDir: dir,
		Host:     host.NewFake("linux", "amd64"),
		Device: func(context.Context, host.Host) checks.Device {
			return checks.Device{Hostname: "laptop-7", OS: "linux", Arch: "amd64"}
		},
		Interval:   10 * time.Millisecond,
		BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		AckTimeout: 5 * time.Second,
		Dial:       srv.dial,
	}
	for _, o := range opts {
		o(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func loadState(t *testing.T, dir string) state.State {
	t.Helper()
	d, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func pendingSeqs(t *testing.T, r *Runner) []uint64 {
	t.Helper()
	rs, err := r.spool.Pending()
	if err != nil {
		t.Fatal(err)
	}
	out := []uint64{}
	for _, p := range rs {
		out = append(out, p.GetSequence())
	}
	return out
}

func TestOnce(t *testing.T) {
	t.Run("a report is acked, leaves the spool and is recorded in state", func(t *testing.T) {
		dir, srv := t.TempDir(), &fakeServer{}
		r := newRunner(t, dir, srv)
		res, err := r.Once(ctxTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if res.Sequence != 1 || res.Ack.GetSequence() != 1 || res.Compliant {
			t.Errorf("result = seq %d ack %v compliant %v", res.Sequence, res.Ack, res.Compliant)
		}
		if len(res.Verdicts) != len(checks.AllControlIDs) {
			t.Errorf("%d verdicts", len(res.Verdicts))
		}
		st := loadState(t, dir)
		if st.LastReport.Sequence != 1 || st.LastAck.Sequence != 1 || st.NextSequence != 2 || len(st.LastReport.Findings) != len(checks.AllControlIDs) {
			t.Errorf("state = %+v", st)
		}
		if got := pendingSeqs(t, r); len(got) != 0 {
			t.Errorf("spool still holds %v", got)
		}
	})
	t.Run("an unreachable server leaves the report spooled for the next run, which delivers in order", func(t *testing.T) {
		dir := t.TempDir()
		down := &fakeServer{failDials: 1 << 30}
		r := newRunner(t, dir, down)
		_, err := r.Once(ctxTimeout(t, 50*time.Millisecond))
		if err == nil {
			t.Fatal("Once succeeded without a server")
		}
		if st := loadState(t, dir); st.LastError == nil || st.LastAck != nil {
			t.Errorf("state = %+v", st)
		}
		up := &fakeServer{}
		r2 := newRunner(t, dir, up)
		if _, err := r2.Once(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint64{1, 2}, up.storedSeqs()); diff != "" {
			t.Errorf("server stored (-want +got):\n%s", diff)
		}
		if st := loadState(t, dir); st.LastError != nil {
			t.Errorf("last error not cleared: %+v", st.LastError)
		}
	})
	t.Run("a lost ack is retransmitted and acked as a duplicate without a second copy", func(t *testing.T) {
		srv := &fakeServer{loseAcks: 1}
		r := newRunner(t, t.TempDir(), srv)
		res, err := r.Once(ctxTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Ack.GetDuplicate() {
			t.Error("the retransmission was not a duplicate")
		}
		if diff := cmp.Diff([]uint64{1}, srv.storedSeqs()); diff != "" {
			t.Errorf("server stored (-want +got):\n%s", diff)
		}
		if srv.sends != 2 || srv.dials != 2 {
			t.Errorf("sends = %d, dials = %d, want 2 and 2", srv.sends, srv.dials)
		}
	})
	t.Run("a report the server refuses as replayed is dropped and reported", func(t *testing.T) {
		dir := t.TempDir()
		srv := &fakeServer{stored: []*pb.Report{{Sequence: 9}}}
		r := newRunner(t, dir, srv)
		_, err := r.Once(ctxTimeout(t, 10*time.Second))
		if err == nil {
			t.Fatal("Once succeeded")
		}
		if got := pendingSeqs(t, r); len(got) != 0 {
			t.Errorf("spool still holds %v", got)
		}
		if st := loadState(t, dir); st.LastError == nil {
			t.Error("no error recorded")
		}
	})
	t.Run("a policy pushed during the run is saved and used next time", func(t *testing.T) {
		dir := t.TempDir()
		srv := &fakeServer{commands: []*pb.Command{{Cmd: &pb.Command_Policy{Policy: &pb.PolicyUpdate{PolicyYaml: []byte("max_report_age: 45m\n")}}}}}
		r := newRunner(t, dir, srv)
		if _, err := r.Once(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := r.currentPolicy().MaxReportAge; got != 45*time.Minute {
			t.Errorf("policy max_report_age = %v", got)
		}
		if _, err := os.Stat(r.dir.File(state.PolicyFile)); err != nil {
			t.Error(err)
		}
		r2 := newRunner(t, dir, srv)
		if got := r2.currentPolicy().MaxReportAge; got != 45*time.Minute {
			t.Errorf("reloaded policy max_report_age = %v", got)
		}
	})
}

func TestRun(t *testing.T) {
	t.Run("reports flow in order across reconnections until the context ends", func(t *testing.T) {
		dir := t.TempDir()
		srv := &fakeServer{failDials: 2, loseAcks: 1}
		r := newRunner(t, dir, srv)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		waitFor(t, func() bool { return len(srv.storedSeqs()) >= 4 })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		got := srv.storedSeqs()
		for i := range got {
			if got[i] != uint64(i+1) {
				t.Fatalf("server stored %v, want 1, 2, 3, ... without gaps or repeats", got)
			}
		}
	})
	t.Run("a recheck command runs a cycle at once", func(t *testing.T) {
		srv := &fakeServer{commands: []*pb.Command{{Cmd: &pb.Command_Recheck{Recheck: &pb.RecheckNow{}}}}}
		r := newRunner(t, t.TempDir(), srv)
		r.cfg.Interval = time.Hour // only the first cycle and the recheck can report
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		waitFor(t, func() bool { return len(srv.storedSeqs()) >= 2 })
		cancel()
		<-done
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSpoolDiscardsAreCounted(t *testing.T) {
	dir := t.TempDir()
	srv := &fakeServer{failDials: 1 << 30}
	at := func(now time.Time) *Runner {
		r, err := New(Config{
			StateDir: dir, Host: host.NewFake("linux", "amd64"), Dial: srv.dial,
			Device: func(context.Context, host.Host) checks.Device { return checks.Device{} },
			Clock:  func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := at(t0).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := at(t0.Add(8 * 24 * time.Hour))
	if _, err := r.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{2}, pendingSeqs(t, r)); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if st := loadState(t, dir); st.DroppedReports != 1 {
		t.Errorf("dropped_reports = %d, want 1", st.DroppedReports)
	}
}

func TestBackoff(t *testing.T) {
	b := newBackoff(time.Second, 5*time.Minute)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i, w := range want {
		w *= time.Second
		got := b.next()
		if got < w/2 || got > w {
			t.Errorf("delay %d = %v, want within [%v, %v]", i, got, w/2, w)
		}
	}
	b.reset()
	if got := b.next(); got > time.Second {
		t.Errorf("after reset = %v", got)
	}
	for range 100 {
		if d := jittered(5*time.Minute, 0.1); d < 270*time.Second || d > 330*time.Second {
			t.Fatalf("jittered = %v, want within ±10%% of 5m", d)
		}
	}
}

func TestRefusedIdentityCallsOnRefused(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		wanted bool
	}{
		{"a revoked device lets the browsers' certificate go", client.CodeDeviceRevoked, true},
		{"a device the server no longer knows lets it go too", client.CodeDeviceUnknown, true},
		{"a refused report keeps it", client.CodeBadReport, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := &fakeServer{refuse: tt.code}
			r := newRunner(t, t.TempDir(), srv, func(c *Config) { c.OnRefused = func() { calls.Add(1) } })
			if _, err := r.Once(ctxTimeout(t, 10*time.Second)); err == nil {
				t.Fatal("a refused report was taken for delivered")
			}
			if got := calls.Load() > 0; got != tt.wanted {
				t.Errorf("OnRefused called %d times, want called: %v", calls.Load(), tt.wanted)
			}
		})
	}
}
