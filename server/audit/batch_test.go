package audit

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/postern-dev/postern/server/store"
)

// countingStore counts the transactions that append audit rows.
type countingStore struct {
	store.Store
	mu      sync.Mutex
	appends int
}

func (c *countingStore) AppendAuditRows(ctx context.Context, rows []store.AuditRow, seal store.AuditSeal) ([]store.AuditRow, error) {
	c.mu.Lock()
	c.appends++
	c.mu.Unlock()
	return c.Store.AppendAuditRows(ctx, rows, seal)
}

func TestConcurrentAppendsShareTransactionsAndKeepOneChain(t *testing.T) {
	f := newFixture(t, 0)
	dir := t.TempDir()
	if err := f.log.OpenKeyed(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: f.st}
	l := New(cs, f.log.now, nil).Keyed(f.log.Keys())
	const n = 300
	var wg sync.WaitGroup
	seqs := make(chan uint64, n)
	for i := range n {
		wg.Go(func() {
			r, err := l.Append(context.Background(), Entry{Actor: "alice", Kind: KindAdmin, DeviceID: fmt.Sprint("d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			seqs <- r.Seq
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("sequence %d returned twice", s)
		}
		seen[s] = true
	}
	if len(seen) != n {
		t.Fatalf("%d rows appended, want %d", len(seen), n)
	}
	res, err := l.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || !res.Keyed || res.Rows != n+1 {
		t.Errorf("verify = %+v, want %d keyed rows intact (the key's marker and the appends)", res, n+1)
	}
	// Not a speed figure: a row per transaction would be n transactions.
	if cs.appends >= n {
		t.Errorf("%d transactions for %d concurrent appends; want them batched", cs.appends, n)
	}
	t.Logf("%d appends in %d transactions", n, cs.appends)
}
