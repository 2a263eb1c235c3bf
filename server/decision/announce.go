package decision

import (
	"context"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
)

// Decision changes are recorded in batches, off the decision path: observe
// compares a decision with the device's last one in memory and, when it
// changed, queues the change and returns; a writer goroutine, started when
// the queue fills and ending when it is empty, stores every queued change
// and the audit rows announcing them in one transaction per batch
// (audit.Log.SwapDecisions, store.SwapLastDecisions), then nudges the event
// feed once. A gateway's question, an agent's ack and a sweep never wait for
// a commit, and a thousand changes cost one commit, not a thousand.
//
// The store stays the reference across replicas: each change is stored only
// if the stored decision is still the one this engine last knew (a
// compare-and-swap), so of several replicas that see the same change one
// records it. A replica that loses adopts the stored decision, and queues
// its own again if it differs.
const (
	// maxChangeBatch bounds the changes stored in one transaction.
	maxChangeBatch = 512
	// maxQueuedChanges bounds the queue (a policy change may change every
	// device at once); past it a change is not queued and memory keeps
	// the device's previous decision, so its next decision, or the next
	// sweep, queues it again.
	maxQueuedChanges = 200_000
	// swapAttempts bounds how often one change is queued again after
	// losing its swap to another writer.
	swapAttempts = 3
	// changeTimeout bounds one batch's write, which serves many callers.
	changeTimeout = 30 * time.Second
)

// change is one queued decision change.
type change struct {
	n         uint64 // its place in the queue, for wait
	dev       store.Device
	from      tracked
	fromKnown bool
	to        tracked
	d         Decision
	version   uint64
	attempts  int
}

// changeQueue is the engine's queue of changes to record; Engine.mu
// guards it.
type changeQueue struct {
	pending []change
	// queued is the number given to the last queued change, written that
	// of the last change whose batch was written.
	queued, written uint64
	writing         bool
	// batchDone is closed and replaced after every batch.
	batchDone chan struct{}
	dropped   int
}

func newChangeQueue() changeQueue {
	return changeQueue{batchDone: make(chan struct{})}
}

// observe compares d with the device's last decision and, when it changed,
// queues the change to be stored and announced. It returns the change's
// number for wait, or 0 when nothing was queued. Memory moves to d at once,
// so the same decision asked again does not queue it twice.
func (e *Engine) observe(_ context.Context, dev store.Device, d Decision, version uint64) uint64 {
	cur := tracked{d.Allow, key(d)}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev, known := e.last[dev.ID]
	if known && prev == cur {
		return 0
	}
	q := &e.changes
	if len(q.pending) >= maxQueuedChanges {
		q.dropped++
		return 0
	}
	e.last[dev.ID] = cur
	q.queued++
	q.pending = append(q.pending, change{n: q.queued, dev: dev, from: prev, fromKnown: known, to: cur, d: d, version: version})
	if !q.writing {
		q.writing = true
		go e.writeChanges()
	}
	return q.queued
}

// wait returns once the change numbered n (and every one before it) was
// written, or ctx ends.
func (e *Engine) wait(ctx context.Context, n uint64) error {
	for {
		e.mu.Lock()
		done, next := e.changes.written >= n, e.changes.batchDone
		e.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Flush waits until every change queued so far is recorded (or ctx ends):
// at shutdown, before the store closes, and in tests.
func (e *Engine) Flush(ctx context.Context) error {
	e.mu.Lock()
	n := e.changes.queued
	e.mu.Unlock()
	return e.wait(ctx, n)
}

// writeChanges writes the queue in batches until it is empty.
func (e *Engine) writeChanges() {
	for {
		e.mu.Lock()
		q := &e.changes
		if dropped := q.dropped; dropped > 0 {
			q.dropped = 0
			e.log.Warn("decision changes not queued: the queue is full; they are queued again at the devices' next decision", "changes", dropped)
		}
		if len(q.pending) == 0 {
			q.writing = false
			e.mu.Unlock()
			return
		}
		n := min(len(q.pending), maxChangeBatch)
		batch := make([]change, n)
		copy(batch, q.pending)
		q.pending = append(q.pending[:0], q.pending[n:]...)
		e.mu.Unlock()

		// Changes that lost their swap are tried again at once (again
		// bounds how often), so that a waiter sees them settled.
		for retry := batch; len(retry) > 0; {
			retry = e.writeBatch(retry)
		}

		e.mu.Lock()
		q.written = batch[n-1].n
		close(q.batchDone)
		q.batchDone = make(chan struct{})
		e.mu.Unlock()
	}
}

// writeBatch stores a batch of changes and their audit rows in one
// transaction and settles memory with the outcome; it returns the changes
// to try again (their swap lost to another writer with a decision that is
// not theirs).
func (e *Engine) writeBatch(batch []change) []change {
	ctx, cancel := context.WithTimeout(context.Background(), changeTimeout)
	defer cancel()
	swaps := make([]store.DecisionSwap, len(batch))
	for i, c := range batch {
		sw := store.DecisionSwap{To: store.LastDecision{DeviceID: c.dev.ID, Allow: c.to.allow, Reasons: c.to.key, DecidedAt: c.d.EvaluatedAt}}
		if c.fromKnown {
			sw.From = &store.LastDecision{DeviceID: c.dev.ID, Allow: c.from.allow, Reasons: c.from.key}
			if e.cfg.Audit != nil {
				row, err := e.cfg.Audit.Row(changeEntry(c))
				if err != nil {
					e.log.Error("decision change cannot be recorded", "device_id", c.dev.ID, "err", err)
				} else {
					sw.Audit = &row
				}
			}
		}
		swaps[i] = sw
	}
	var out []store.SwapOutcome
	var err error
	if e.cfg.Audit != nil {
		out, err = e.cfg.Audit.SwapDecisions(ctx, swaps)
	} else {
		out, err = e.cfg.Store.SwapLastDecisions(ctx, swaps, nil)
	}
	if err != nil {
		// Nothing was stored: memory goes back to what is stored, so each
		// device's next decision queues its change again.
		e.log.Error("record decision changes failed; they will be announced again", "changes", len(batch), "err", err)
		e.mu.Lock()
		for i := len(batch) - 1; i >= 0; i-- {
			e.restore(batch[i])
		}
		e.mu.Unlock()
		return nil
	}
	var retry []change
	announced := false
	e.mu.Lock()
	for i, c := range batch {
		o := out[i]
		switch {
		case o.Swapped:
			if o.Row.Seq != 0 {
				announced = true
				e.log.Info("decision changed", "device_id", c.dev.ID, "allow", c.to.allow, "reasons", c.to.key, "seq", o.Row.Seq)
			}
		case o.Stored.DeviceID == "" && !c.fromKnown:
			// The device was deleted.
			if e.last[c.dev.ID] == c.to {
				delete(e.last, c.dev.ID)
			}
		case o.Stored.DeviceID == "":
			// Nothing stored: this is the device's first decision.
			c.fromKnown = false
			retry = e.again(retry, c)
		default:
			// Another replica, or this one a moment ago, stored first.
			stored := tracked{o.Stored.Allow, o.Stored.Reasons}
			if e.last[c.dev.ID] != c.to {
				continue // a later change of this device follows in the queue
			}
			if stored == c.to {
				continue // and recorded this very change
			}
			c.from, c.fromKnown = stored, true
			retry = e.again(retry, c)
		}
	}
	e.mu.Unlock()
	if announced && e.cfg.Nudge != nil {
		e.cfg.Nudge()
	}
	return retry
}

// again returns retry with c added, unless c has lost too often: then
// memory takes the stored decision and the device's next decision
// compares with it. Callers hold e.mu.
func (e *Engine) again(retry []change, c change) []change {
	c.attempts++
	if c.attempts >= swapAttempts {
		e.log.Warn("decision kept changing under concurrent writers; will compare again next time", "device_id", c.dev.ID)
		e.restore(c)
		return retry
	}
	return append(retry, c)
}

// restore puts memory back to c's previous decision, unless a later change
// of the device already moved it on. Callers hold e.mu.
func (e *Engine) restore(c change) {
	if e.last[c.dev.ID] != c.to {
		return
	}
	if c.fromKnown {
		e.last[c.dev.ID] = c.from
	} else {
		delete(e.last, c.dev.ID)
	}
}

// changeEntry is the audit entry announcing c.
func changeEntry(c change) audit.Entry {
	reasons := codes(c.d)
	details := events.ChangeDetails{PreviousAllow: c.from.allow, Allow: c.to.allow, PreviousReasons: splitKey(c.from.key), Reasons: reasons,
		PolicyVersion: c.version, CertSHA256: c.dev.CertSHA256, Org: c.dev.Org, ReasonAdmin: summary(c.d), EventTime: c.d.EvaluatedAt}
	return audit.Entry{Actor: audit.ActorServer, Kind: audit.KindDecisionChanged, DeviceID: c.dev.ID, At: c.d.EvaluatedAt, Details: details}
}
