package store

import (
	"context"
	"time"
)

// SQLite in WAL mode copies the log back into the database (a checkpoint,
// with an fsync) once the log passes a size. Left to the writer, that
// copy happens inside whichever commit crosses the size and stalls every
// report queued behind it for several milliseconds, a few times a second
// under load. The server instead checkpoints from a reader connection in
// the background, which never blocks the writer (PASSIVE mode), and the
// writer's own automatic checkpoint is kept only as a high safety net in
// case the background one falls behind or fails.
const (
	// checkpointInterval is how often the background checkpoint runs.
	checkpointInterval = time.Second
	// autoCheckpointPages is the writer's fallback threshold, in pages
	// (SQLite's default is 1000).
	autoCheckpointPages = 16384
	// checkpointTimeout bounds one background checkpoint.
	checkpointTimeout = 30 * time.Second
)

// startCheckpointer starts the background checkpoint; Close stops it.
func (s *sqlStore) startCheckpointer() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// An error only means the log stays longer; the writer's
				// automatic checkpoint still bounds it.
				_ = s.checkpoint()
			}
		}
	}()
	s.stopCheckpointer = func() {
		close(stop)
		<-done
	}
}

// checkpoint copies as much of the log as it can without waiting for the
// writer or readers.
func (s *sqlStore) checkpoint() error {
	ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
	defer cancel()
	_, err := s.r.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return err
}
