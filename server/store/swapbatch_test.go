package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sealPlain places a row after the tail with a recognisable hash, as
// server/audit's seal does with a real one.
func sealPlain(tail, r AuditRow) AuditRow {
	r.Seq, r.PrevHash = tail.Seq+1, tail.Hash
	r.Hash = fmt.Sprintf("h%d", r.Seq)
	return r
}

func TestSwapLastDecisionsStoresAChangeExactlyWhenItIsRecorded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		enrollTest(t, s, "a")
		enrollTest(t, s, "b")
		allow := func(id string) LastDecision { return LastDecision{DeviceID: id, Allow: true, DecidedAt: t0} }
		deny := func(id string) LastDecision {
			return LastDecision{DeviceID: id, Reasons: "report_stale", DecidedAt: t0.Add(time.Minute)}
		}
		row := func(id string) *AuditRow {
			return &AuditRow{At: t0, Actor: "server", Kind: "decision_changed", DeviceID: id, Details: []byte(`{}`)}
		}
		// First decisions, recorded silently.
		out, err := s.SwapLastDecisions(ctx, []DecisionSwap{{To: allow("a")}, {To: allow("b")}}, sealPlain)
		if err != nil {
			t.Fatal(err)
		}
		if !out[0].Swapped || !out[1].Swapped || out[0].Row.Seq != 0 {
			t.Fatalf("first decisions: %+v", out)
		}
		a, b2 := allow("a"), allow("b")
		out, err = s.SwapLastDecisions(ctx, []DecisionSwap{
			{From: &a, To: deny("a"), Audit: row("a")},
			// Lost: b's stored decision is not deny.
			{From: ptr(deny("b")), To: allow("b"), Audit: row("b")},
			// a changes back within the same batch, after its first change.
			{From: ptr(deny("a")), To: allow("a"), Audit: row("a")},
			{From: &b2, To: deny("b"), Audit: row("b")},
		}, sealPlain)
		if err != nil {
			t.Fatal(err)
		}
		want := []SwapOutcome{
			{Swapped: true, Stored: LastDecision{}, Row: AuditRow{Seq: 1, At: t0, Actor: "server", Kind: "decision_changed", DeviceID: "a", Details: []byte(`{}`), Hash: "h1"}},
			{Swapped: false, Stored: allow("b")},
			{Swapped: true, Row: AuditRow{Seq: 2, At: t0, Actor: "server", Kind: "decision_changed", DeviceID: "a", Details: []byte(`{}`), PrevHash: "h1", Hash: "h2"}},
			{Swapped: true, Row: AuditRow{Seq: 3, At: t0, Actor: "server", Kind: "decision_changed", DeviceID: "b", Details: []byte(`{}`), PrevHash: "h2", Hash: "h3"}},
		}
		// Stored is next when swapped; only the lost one's is compared.
		for i := range out {
			if out[i].Swapped {
				out[i].Stored = LastDecision{}
			}
		}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		rows, err := s.AuditRows(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[2].Seq != 3 || rows[2].PrevHash != "h2" {
			t.Errorf("audit rows = %+v, want the three won changes chained", rows)
		}
		head, _, err := s.State(ctx, AuditHeadState)
		if err != nil || string(head) != "3 h3" {
			t.Errorf("head = %q, %v; want the last row", head, err)
		}
	})
}

func TestSwapLastDecisionsFailingStoresNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		enrollTest(t, s, "a")
		if _, err := s.SwapLastDecisions(ctx, []DecisionSwap{{To: LastDecision{DeviceID: "a", Allow: true}}}, sealPlain); err != nil {
			t.Fatal(err)
		}
		// A seal that breaks the chain fails the second row's append: the
		// swap before it must not stay stored.
		bad := func(tail, r AuditRow) AuditRow { r.Seq = tail.Seq + 7; return r }
		from := LastDecision{DeviceID: "a", Allow: true}
		_, err := s.SwapLastDecisions(ctx, []DecisionSwap{{From: &from, To: LastDecision{DeviceID: "a", Reasons: "x"},
			Audit: &AuditRow{At: t0, Actor: "server", Kind: "k", Details: []byte(`{}`)}}}, bad)
		if err == nil {
			t.Fatal("a row out of the chain was accepted")
		}
		ds, err := s.LastDecisions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || !ds[0].Allow {
			t.Errorf("stored = %+v, want the decision before the failed batch", ds)
		}
		if rows, _ := s.AuditRows(ctx, 0, 0); len(rows) != 0 {
			t.Errorf("rows = %+v, want none", rows)
		}
	})
}

func TestAppendAuditRowsChainsAfterTheTail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		if err := s.AppendAudit(ctx, AuditRow{Seq: 1, At: t0, Actor: "a", Kind: "k", Details: []byte(`{}`), Hash: "h1"}); err != nil {
			t.Fatal(err)
		}
		rows := []AuditRow{{At: t0, Actor: "a", Kind: "x", Details: []byte(`{}`)}, {At: t0, Actor: "a", Kind: "y", Details: []byte(`{}`)}}
		out, err := s.AppendAuditRows(ctx, rows, sealPlain)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Seq != 2 || out[0].PrevHash != "h1" || out[1].Seq != 3 || out[1].PrevHash != "h2" {
			t.Errorf("appended %+v", out)
		}
		tail, err := s.AuditTail(ctx)
		if err != nil || tail.Seq != 3 || tail.Hash != "h3" {
			t.Errorf("tail = %+v, %v", tail, err)
		}
	})
}

// Every write transaction rides the SQLite group writer, not only reports:
// concurrent decision swaps and audit appends share commits with reports.
func TestSQLiteWritesShareTheGroupCommit(t *testing.T) {
	s := backends[0].openNew(t).(*sqlStore)
	const n = 200
	for i := range n {
		enrollTest(t, s, fmt.Sprint("d", i))
	}
	before := s.gw.batches.Load()
	beforeWrites := s.gw.reports.Load()
	// Hold the writer busy with one write, so that the others queue.
	hold := make(chan struct{})
	started := make(chan struct{})
	go s.tx(context.Background(), func(tx *sql.Tx) error { close(started); <-hold; return nil })
	<-started
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			_, _, err := s.SwapLastDecision(context.Background(), nil, LastDecision{DeviceID: fmt.Sprint("d", i), Allow: true})
			errs <- err
		})
		wg.Go(func() {
			_, err := s.AppendAuditRows(context.Background(), []AuditRow{{At: t0, Actor: "a", Kind: "k", Details: []byte(`{}`)}}, sealPlain)
			errs <- err
		})
	}
	// Wait until every write is queued at the writer, then let it go.
	for s.gw.queued() < 2*n {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	writes := s.gw.reports.Load() - beforeWrites
	batches := s.gw.batches.Load() - before
	if writes != 2*n+1 || batches > 10 {
		t.Errorf("%d writes in %d batches; want %d writes in a few batches", writes, batches, 2*n+1)
	}
	rows, err := s.AuditRows(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.Seq != uint64(i+1) || (i > 0 && r.PrevHash != rows[i-1].Hash) {
			t.Fatalf("row %d = %+v: the chain is broken", i, r)
		}
	}
}

func ptr[T any](v T) *T { return &v }
