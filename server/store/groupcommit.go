package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Group commit: on SQLite every write goes to one writer goroutine, which
// takes every write already waiting (up to maxBatch) and commits them in a
// single transaction, then answers each caller. Reports (IngestReport) and
// every other write transaction (s.tx: decision changes, audit rows,
// enrollments, ...) ride the same batches: under load a commit (the WAL
// append and its fsync with synchronous=FULL) is paid once per batch
// instead of once per write, and no write waits behind another's fsync.
// With a single caller a batch holds one write and nothing waits. Each
// write runs inside its own savepoint, so one that fails is rolled back
// alone and its batch-mates still commit.
const (
	// maxBatch bounds the reports committed in one transaction, which
	// bounds how long the writer connection is held.
	maxBatch = 256
	// batchTimeout bounds one batch's transaction.
	batchTimeout = 30 * time.Second
)

// errStoreClosed is returned by IngestReport once Close has been called.
var errStoreClosed = errors.New("store closed")

// errBatchBroken aborts a batch whose transaction can no longer be trusted
// (a savepoint could not be rolled back or released).
var errBatchBroken = errors.New("batch transaction broken")

// ingestReq is one write waiting for the writer: a report (in), or, when
// fn is set, a write transaction's body (s.tx). done receives exactly one
// result.
type ingestReq struct {
	ctx  context.Context
	in   Ingest
	fn   func(*sql.Tx) error
	done chan ingestResult
}

type ingestResult struct {
	duplicate bool
	err       error
}

// groupWriter is the state of the writer goroutine.
type groupWriter struct {
	reqs   chan *ingestReq // unbuffered: waiting callers are the queue
	stop   chan struct{}   // closed by Close
	exited chan struct{}   // closed when the writer has returned

	// batches and reports count what was committed (reports and other
	// writes), for benchmarks; waiting counts writes not yet taken by the
	// writer, for tests.
	batches, reports, waiting atomic.Int64
}

// queued is how many writes wait to be taken into a batch.
func (g *groupWriter) queued() int64 { return g.waiting.Load() }

// submit hands req to the writer; false when ctx ended or the writer
// stopped first.
func (g *groupWriter) submit(ctx context.Context, req *ingestReq) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case g.reqs <- req:
		return nil
	case <-g.exited:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startWriter starts the group-commit writer; Close stops it.
func (s *sqlStore) startWriter() {
	s.gw = &groupWriter{reqs: make(chan *ingestReq), stop: make(chan struct{}), exited: make(chan struct{})}
	go s.runWriter()
}

// stopWriter stops the writer after its current batch; callers still
// queued get errStoreClosed.
func (s *sqlStore) stopWriter() {
	if s.gw == nil {
		return
	}
	close(s.gw.stop)
	<-s.gw.exited
}

func (s *sqlStore) IngestReport(ctx context.Context, in Ingest) (bool, error) {
	if err := checkSequence(in.Sequence); err != nil {
		return false, fmt.Errorf("ingest report: %w", err)
	}
	if s.gw == nil {
		return s.ingestAlone(ctx, in)
	}
	req := &ingestReq{ctx: ctx, in: in, done: make(chan ingestResult, 1)}
	if err := s.gw.submit(ctx, req); err != nil {
		return false, fmt.Errorf("ingest report: %w", err)
	}
	select {
	case res := <-req.done:
		return res.duplicate, res.err
	case <-ctx.Done():
		// The batch may still commit the report; the agent then resends it
		// and gets a duplicate ack, so giving up here loses nothing.
		return false, fmt.Errorf("ingest report: %w", ctx.Err())
	}
}

// ingestAlone commits one report in its own transaction, rolled back
// whole when the report is refused or fails. It serves stores without a
// group writer (PostgreSQL), where concurrent reports run in concurrent
// transactions.
func (s *sqlStore) ingestAlone(ctx context.Context, in Ingest) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("ingest report: %w", errStoreClosed)
	}
	var dup bool
	var refused error
	err := s.txDirect(ctx, func(tx *sql.Tx) error {
		dup, refused = s.bind(ctx, tx).ingestOne(in)
		return refused
	})
	switch {
	case refused != nil:
		return false, refused
	case err != nil:
		return false, fmt.Errorf("ingest report: %w", err)
	}
	return dup, nil
}

func (s *sqlStore) runWriter() {
	defer close(s.gw.exited)
	batch := make([]*ingestReq, 0, maxBatch)
	for {
		select {
		case <-s.gw.stop:
			return
		case r := <-s.gw.reqs:
			batch = append(batch[:0], r)
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.gw.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commitBatch(batch)
		s.gw.batches.Add(1)
		s.gw.reports.Add(int64(len(batch)))
		clear(batch)
	}
}

// commitBatch stores the batch in one transaction and answers every
// request. Requests whose caller already gave up are skipped.
func (s *sqlStore) commitBatch(batch []*ingestReq) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	results := make([]ingestResult, len(batch))
	err := s.txDirect(ctx, func(tx *sql.Tx) error {
		w := s.bind(ctx, tx)
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				results[i].err = fmt.Errorf("ingest report: %w", err)
				continue
			}
			if r.fn != nil {
				err := w.isolated(func() error { return r.fn(tx) })
				if errors.Is(err, errBatchBroken) {
					return err
				}
				results[i] = ingestResult{err: err}
				continue
			}
			dup, err := w.ingestIsolated(r.in)
			if errors.Is(err, errBatchBroken) {
				return err
			}
			results[i] = ingestResult{duplicate: dup, err: err}
		}
		return nil
	})
	for i, r := range batch {
		res := results[i]
		if err != nil {
			// Nothing of the batch was stored.
			res = ingestResult{err: fmt.Errorf("ingest report: %w", err)}
		}
		r.done <- res
	}
}

// ingestIsolated runs ingestOne inside a savepoint, rolled back when the
// report fails so that the batch's other reports are unaffected. The
// savepoint also covers the first read: on PostgreSQL any failed statement
// poisons the transaction until it is rolled back to a savepoint.
func (w *writeTx) ingestIsolated(in Ingest) (bool, error) {
	var dup bool
	err := w.isolated(func() error {
		var err error
		dup, err = w.ingestOne(in)
		return err
	})
	return dup, err
}

// isolated runs fn inside a savepoint, rolled back when fn fails. An
// error wrapping errBatchBroken means the batch's transaction is lost (a
// statement interrupted by its caller's context makes SQLite roll back
// the whole transaction): every write of the batch then fails, and none
// was stored.
func (w *writeTx) isolated(fn func() error) error {
	if _, err := w.exec(qSavepoint); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errBatchBroken, err)
	}
	err := fn()
	if err != nil {
		if _, rbErr := w.exec(qRollbackSavepoint); rbErr != nil {
			return fmt.Errorf("%w: roll back write: %w", errBatchBroken, rbErr)
		}
	}
	if _, relErr := w.exec(qReleaseSavepoint); relErr != nil {
		return fmt.Errorf("%w: release savepoint: %w", errBatchBroken, relErr)
	}
	return err
}

// batched runs fn as one write of the next batch and returns its result.
// Once handed to the writer it waits for the answer whatever ctx does, so
// that the caller never takes a committed write for a failed one.
func (s *sqlStore) batched(ctx context.Context, fn func(*sql.Tx) error) error {
	req := &ingestReq{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan ingestResult, 1)}
	if err := s.gw.submit(ctx, req); err != nil {
		return err
	}
	return (<-req.done).err
}

// Savepoint statements, portable between SQLite and PostgreSQL.
const (
	qSavepoint         = `SAVEPOINT report`
	qRollbackSavepoint = `ROLLBACK TO SAVEPOINT report`
	qReleaseSavepoint  = `RELEASE SAVEPOINT report`
)

// writeTx is a write transaction with the hot statements bound to it once,
// rather than once per use.
type writeTx struct {
	s     *sqlStore
	ctx   context.Context
	tx    *sql.Tx
	bound map[string]*sql.Stmt
}

func (s *sqlStore) bind(ctx context.Context, tx *sql.Tx) *writeTx {
	return &writeTx{s: s, ctx: ctx, tx: tx, bound: make(map[string]*sql.Stmt, len(hotStatements))}
}

func (w *writeTx) stmt(query string) *sql.Stmt {
	query = w.s.q(query)
	if st, ok := w.bound[query]; ok {
		return st
	}
	st, ok := w.s.stmts[query]
	if !ok {
		return nil
	}
	st = w.tx.StmtContext(w.ctx, st)
	w.bound[query] = st
	return st
}

func (w *writeTx) exec(query string, args ...any) (sql.Result, error) {
	if st := w.stmt(query); st != nil {
		return st.ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, w.s.q(query), args...)
}

func (w *writeTx) query(query string, args ...any) (*sql.Rows, error) {
	if st := w.stmt(query); st != nil {
		return st.QueryContext(w.ctx, args...)
	}
	return w.tx.QueryContext(w.ctx, w.s.q(query), args...)
}

func (w *writeTx) queryRow(query string, args ...any) *sql.Row {
	if st := w.stmt(query); st != nil {
		return st.QueryRowContext(w.ctx, args...)
	}
	return w.tx.QueryRowContext(w.ctx, w.s.q(query), args...)
}
