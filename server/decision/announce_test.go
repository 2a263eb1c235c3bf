package decision

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
)

// blockingSwaps holds every SwapLastDecisions call until release is
// closed, and counts them.
type blockingSwaps struct {
	store.Store
	release chan struct{}
	calls   chan int
}

func (b *blockingSwaps) SwapLastDecisions(ctx context.Context, swaps []store.DecisionSwap, seal store.AuditSeal) ([]store.SwapOutcome, error) {
	b.calls <- len(swaps)
	<-b.release
	return b.Store.SwapLastDecisions(ctx, swaps, seal)
}

// A decision never waits for its change to be stored: a gateway asking
// while the database is slow gets its answer, and the changes that pile up
// meanwhile are stored and announced together, in order, once it answers.
func TestDecisionsDoNotWaitForTheirChangeToBeRecorded(t *testing.T) {
	e := newEngineEnv(t, "")
	const n = 20
	for i := range n {
		e.enroll(fmt.Sprint("dev", i), "")
		e.report(fmt.Sprint("dev", i))
		e.decide(fmt.Sprint("dev", i))
	}
	bs := &blockingSwaps{Store: e.st, release: make(chan struct{}), calls: make(chan int, 100)}
	clock := func() time.Time { return e.now }
	e.eng = NewEngine(EngineConfig{Store: bs, Policies: e.pols, Index: e.index, Postures: e.postures,
		Audit: audit.New(bs, clock, nil), Now: clock})
	if err := e.eng.Restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e.report(fmt.Sprint("dev", i), checks.Firewall)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			d, err := e.eng.Decide(context.Background(), Lookup{DeviceID: fmt.Sprint("dev", i)}, "")
			if err != nil || d.Allow {
				t.Errorf("dev%d: %+v, %v; want a deny", i, d, err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("decisions waited for the store")
	}
	first := <-bs.calls // the writer holds the first change
	close(bs.release)
	if err := e.eng.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	batches, total := 1, first
	for len(bs.calls) > 0 {
		total += <-bs.calls
		batches++
	}
	if total != n || batches > 2 {
		t.Errorf("%d changes in %d transactions; want %d in at most 2 (the first alone, the rest together)", total, batches, n)
	}
	for i := range n {
		ev, ok := e.nextEvent()
		if !ok {
			t.Fatalf("event %d missing", i)
		}
		if ev.DeviceID != fmt.Sprint("dev", i) || ev.CurrentStatus != events.StatusNotCompliant {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	if ev, ok := e.nextEvent(); ok {
		t.Errorf("an extra event %+v", ev)
	}
}

// A report is evaluated once: ingest's evaluation (Evaluate) is kept as the
// stored report's verdicts, and the ack's decision reads no body.
func TestAfterReportReusesIngestsEvaluation(t *testing.T) {
	e := newEngineEnv(t, "")
	e.enroll("dev", "")
	e.report("dev", checks.Firewall)
	r := &checks.Report{CollectedAt: e.now}
	for _, c := range checks.AllControlIDs {
		r.Observations = append(r.Observations, checks.Observation{ID: c, Facts: []byte(`{"ok":false}`)})
	}
	_, ev := e.eng.Evaluate("", r, e.now)
	ev.Sequence = e.seq // the report stored last
	d, err := e.eng.AfterReport(t.Context(), "dev", ev)
	if err != nil {
		t.Fatal(err)
	}
	// The stored report fails the firewall only; the kept verdicts fail
	// every control, so the decision shows which were used.
	if d.Allow || len(d.Reasons) != len(checks.AllControlIDs) {
		t.Errorf("decision = %+v; want it made from ingest's verdicts", d)
	}
	if _, err := e.eng.cfg.Cache.Verdicts("dev", e.seq, e.pols.s.Version, nil, e.now, func() (*checks.Report, error) {
		return nil, fmt.Errorf("the report was read again")
	}); err != nil {
		t.Error(err)
	}
}
