package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSwapLastDecision(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		enrollTest(t, s, "a")
		allow := LastDecision{DeviceID: "a", Allow: true, DecidedAt: t0}
		deny := LastDecision{DeviceID: "a", Reasons: "report_stale", DecidedAt: t0.Add(time.Minute)}
		steps := []struct {
			name        string
			prev        *LastDecision
			next        LastDecision
			wantSwapped bool
			wantCurrent LastDecision
		}{
			{"the first decision is stored when none is", nil, allow, true, allow},
			{"a second first decision finds the stored one", nil, deny, false, allow},
			{"a swap from the stored decision wins", &allow, deny, true, deny},
			{"a swap from an outdated decision loses and reads the stored one", &allow, allow, false, deny},
			{"only allow and reasons are compared, not the time", &LastDecision{DeviceID: "a", Reasons: "report_stale"}, allow, true, allow},
			{"a device that does not exist stores nothing", nil, LastDecision{DeviceID: "gone", Allow: true}, false, LastDecision{}},
		}
		for _, st := range steps {
			swapped, cur, err := s.SwapLastDecision(ctx, st.prev, st.next)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if swapped != st.wantSwapped {
				t.Errorf("%s: swapped = %v", st.name, swapped)
			}
			if diff := cmp.Diff(st.wantCurrent, cur); diff != "" {
				t.Errorf("%s: current (-want +got):\n%s", st.name, diff)
			}
		}
	})
}

func TestSwapLastDecisionRaceHasOneWinner(t *testing.T) {
	rs := replicas(t, 4)
	enrollTest(t, rs[0], "dev")
	prev := LastDecision{DeviceID: "dev", Allow: true, DecidedAt: t0}
	if ok, _, err := rs[0].SwapLastDecision(t.Context(), nil, prev); !ok || err != nil {
		t.Fatalf("first decision: %v %v", ok, err)
	}
	for round := range 20 {
		next := LastDecision{DeviceID: "dev", Allow: round%2 == 1, Reasons: fmt.Sprint("r", round), DecidedAt: t0}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for _, s := range rs {
			wg.Go(func() {
				ok, cur, err := s.SwapLastDecision(context.Background(), &prev, next)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				} else if cur.Reasons != next.Reasons {
					t.Errorf("round %d: a loser read %+v, want the winner's decision", round, cur)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d replicas won the swap, want 1", round, n)
		}
		prev = next
	}
}

func TestLatestAuditRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		kinds := []string{"x", "decision_changed", "y", "decision_changed", "policy_applied", "decision_changed"}
		for i, k := range kinds {
			r := AuditRow{Seq: uint64(i + 1), At: t0, Actor: "server", Kind: k, Details: []byte(`{}`), Hash: fmt.Sprint("h", i+1)}
			if err := s.AppendAudit(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		seqs := func(atOrBefore uint64, limit int) []uint64 {
			rows, err := s.LatestAuditRows(ctx, []string{"decision_changed", "policy_applied"}, atOrBefore, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []uint64
			for _, r := range rows {
				out = append(out, r.Seq)
			}
			return out
		}
		if diff := cmp.Diff([]uint64{4, 5, 6}, seqs(6, 3)); diff != "" {
			t.Errorf("newest three, oldest first (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]uint64{2, 4}, seqs(4, 10)); diff != "" {
			t.Errorf("up to seq 4 (-want +got):\n%s", diff)
		}
	})
}

func TestLeases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := b.openNew(t)
		l, err := s.TryLease(ctx, "webhooks")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TryLease(ctx, "webhooks"); !errors.Is(err, ErrLeaseHeld) {
			t.Errorf("a held lease was taken again: %v", err)
		}
		other, err := s.TryLease(ctx, "other")
		if err != nil {
			t.Fatalf("another name is another lease: %v", err)
		}
		other.Release()
		l.Release()
		l.Release()
		select {
		case <-l.Lost():
		default:
			t.Error("a released lease is not reported lost")
		}
		again, err := s.TryLease(ctx, "webhooks")
		if err != nil {
			t.Fatalf("a released lease could not be taken: %v", err)
		}
		again.Release()
	})
}

func TestLeaseIsExclusiveAcrossReplicas(t *testing.T) {
	rs := replicas(t, 2)
	ctx := t.Context()
	l, err := rs[0].TryLease(ctx, "webhooks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs[1].TryLease(ctx, "webhooks"); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("a second replica took a held lease: %v", err)
	}
	t.Run("the holder's session ending frees the lease and tells the holder", func(t *testing.T) {
		pl := l.(*pgLease)
		var pid int
		if err := pl.conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := rs[1].(*sqlStore).w.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		select {
		case <-l.Lost():
		case <-time.After(20 * time.Second):
			t.Fatal("the holder was not told it lost the lease")
		}
		l2, err := rs[1].TryLease(ctx, "webhooks")
		if err != nil {
			t.Fatalf("the other replica could not take the freed lease: %v", err)
		}
		l2.Release()
	})
	l.Release()
}
