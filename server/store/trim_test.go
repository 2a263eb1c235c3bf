package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHistoryKeepsTheLastSequenceNumbers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		enrollTest(t, s, "dev")
		steps := []struct {
			name string
			seq  uint64
			want []uint64
		}{
			{"early reports are all kept", 3, []uint64{3}},
			{"a report within the window keeps the older ones", MaxHistoryPerDevice + 2, []uint64{MaxHistoryPerDevice + 2, 3}},
			{"a report past the window drops reports older than the window", MaxHistoryPerDevice + 3, []uint64{MaxHistoryPerDevice + 3, MaxHistoryPerDevice + 2}},
			{"a jump in sequence keeps only the window's reports", 5 * MaxHistoryPerDevice, []uint64{5 * MaxHistoryPerDevice}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if _, err := s.IngestReport(ctx, ingest(st.seq, fmt.Sprint(st.seq))); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(st.want, historySeqs(t, s, "dev")); diff != "" {
					t.Errorf("history (-want +got):\n%s", diff)
				}
			})
		}
	})
}
