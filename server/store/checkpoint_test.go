package store

import (
	"context"
	"fmt"
	"testing"
)

func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir()).(*sqlStore)
	enrollTest(t, s, "dev")
	for seq := uint64(1); seq <= 50; seq++ {
		if _, err := s.IngestReport(ctx, ingest(seq, fmt.Sprint(seq))); err != nil {
			t.Fatal(err)
		}
	}
	walFrames := func() (logged, copied int) {
		t.Helper()
		var busy int
		if err := s.r.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied); err != nil {
			t.Fatal(err)
		}
		return logged, copied
	}
	t.Run("the writer leaves the log to the background checkpoint", func(t *testing.T) {
		var pages int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if pages != autoCheckpointPages {
			t.Errorf("wal_autocheckpoint = %d, want %d", pages, autoCheckpointPages)
		}
	})
	t.Run("a checkpoint copies the whole log into the database", func(t *testing.T) {
		if err := s.checkpoint(); err != nil {
			t.Fatal(err)
		}
		logged, copied := walFrames()
		if logged == 0 || copied != logged {
			t.Errorf("after checkpoint: %d frames logged, %d copied", logged, copied)
		}
	})
}
