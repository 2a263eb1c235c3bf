package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var errInjected = errors.New("injected write failure")

// deviceIngest is ingest for the device id.
func deviceIngest(id string, seq uint64, hash string) Ingest {
	in := ingest(seq, hash)
	in.DeviceID = id
	return in
}

func historySeqs(t *testing.T, s Store, id string) []uint64 {
	t.Helper()
	h, err := s.History(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, r := range h {
		seqs = append(seqs, r.Sequence)
	}
	return seqs
}

// TestBatchRules commits one batch by hand, so that every report below is
// certainly in the same transaction.
func TestBatchRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := b.openNew(t).(*sqlStore)
		for _, id := range []string{"a", "b", "c"} {
			enrollTest(t, s, id)
		}
		s.testHookStored = func(in Ingest) error {
			if in.DeviceID == "b" {
				return errInjected
			}
			return nil
		}
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		steps := []struct {
			name    string
			ctx     context.Context
			in      Ingest
			wantDup bool
			wantErr error
		}{
			{"a device's first report is stored", nil, deviceIngest("a", 1, "a1"), false, nil},
			{"its next report in the same batch is stored after it", nil, deviceIngest("a", 2, "a2"), false, nil},
			{"a retransmission within the batch is a duplicate", nil, deviceIngest("a", 2, "a2"), true, nil},
			{"an older sequence within the batch is a replay", nil, deviceIngest("a", 1, "a1"), false, ErrSequenceReplayed},
			{"the same sequence with new content within the batch is a replay", nil, deviceIngest("a", 2, "zz"), false, ErrSequenceReplayed},
			{"a report whose write fails gets the error", nil, deviceIngest("b", 1, "b1"), false, errInjected},
			{"a report after the failed one is stored", nil, deviceIngest("c", 1, "c1"), false, nil},
			{"a report of an unknown device is refused", nil, deviceIngest("ghost", 1, "g1"), false, ErrNotFound},
			{"a report whose caller gave up is skipped", canceled, deviceIngest("c", 2, "c2"), false, context.Canceled},
			{"a report after the skipped one is stored", nil, deviceIngest("c", 3, "c3"), false, nil},
		}
		batch := make([]*ingestReq, len(steps))
		for i, st := range steps {
			ctx := st.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			batch[i] = &ingestReq{ctx: ctx, in: st.in, done: make(chan ingestResult, 1)}
		}
		s.commitBatch(batch)
		for i, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				res := <-batch[i].done
				if !errors.Is(res.err, st.wantErr) {
					t.Fatalf("err = %v, want %v", res.err, st.wantErr)
				}
				if res.duplicate != st.wantDup {
					t.Errorf("duplicate = %v, want %v", res.duplicate, st.wantDup)
				}
			})
		}
		t.Run("the history holds exactly the stored reports", func(t *testing.T) {
			got := map[string][]uint64{}
			for _, id := range []string{"a", "b", "c"} {
				got[id] = historySeqs(t, s, id)
			}
			want := map[string][]uint64{"a": {2, 1}, "b": nil, "c": {3, 1}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
		t.Run("the failed report left nothing behind", func(t *testing.T) {
			p, err := s.Posture(context.Background(), "b")
			if err != nil {
				t.Fatal(err)
			}
			if p.Latest != nil || p.FirstFailed != nil || !p.Device.LastSeenAt.Equal(t0) {
				t.Errorf("posture of b = %+v", p)
			}
		})
		t.Run("the failed report can be sent again", func(t *testing.T) {
			s.testHookStored = nil
			if _, err := s.IngestReport(context.Background(), deviceIngest("b", 1, "b1")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]uint64{1}, historySeqs(t, s, "b")); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	})
}

func TestConcurrentIngest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		const devices, reports = 40, 25
		s := b.openNew(t)
		for d := range devices {
			enrollTest(t, s, fmt.Sprint("dev-", d))
		}
		var wg sync.WaitGroup
		errs := make(chan error, devices*reports*2)
		for d := range devices {
			id := fmt.Sprint("dev-", d)
			// Two senders per device: the agent and a retransmission of each
			// report, racing into the same or adjacent batches.
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seq := uint64(1); seq <= reports; seq++ {
						_, err := s.IngestReport(context.Background(), deviceIngest(id, seq, fmt.Sprint(seq)))
						if err != nil && !errors.Is(err, ErrSequenceReplayed) {
							errs <- err
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("ingest: %v", err)
		}
		t.Run("every device has every report once, in order", func(t *testing.T) {
			want := make([]uint64, 0, reports)
			for seq := uint64(reports); seq >= 1; seq-- {
				want = append(want, seq)
			}
			for d := range devices {
				if diff := cmp.Diff(want, historySeqs(t, s, fmt.Sprint("dev-", d))); diff != "" {
					t.Fatalf("dev-%d history (-want +got):\n%s", d, diff)
				}
			}
		})
	})
}

func TestIngestAfterClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, err := b.open(context.Background(), b.place(t))
		if err != nil {
			t.Fatal(err)
		}
		enrollTest(t, s, "dev")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Run("a report after close is refused, not left waiting", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := s.IngestReport(ctx, ingest(1, "a"))
			if !errors.Is(err, errStoreClosed) {
				t.Errorf("err = %v, want errStoreClosed", err)
			}
		})
		t.Run("closing twice is harmless", func(t *testing.T) {
			if err := s.Close(); err != nil {
				t.Errorf("second close: %v", err)
			}
		})
	})
}
