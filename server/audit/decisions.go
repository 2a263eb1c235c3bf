package audit

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
)

// DecisionRecorder audits decisions without slowing the decision path:
// the first deny of a device for a given set of reasons in each hour is
// written at once (so every distinct deny is on record within seconds),
// and every other decision is counted and written per device and hour by
// Flush. Decision changes are audited separately by the caller.
type DecisionRecorder struct {
	log *Log

	mu      sync.Mutex
	hour    time.Time
	counts  map[string]*hourCounts
	queue   chan Entry
	dropped int
	// pending holds finished hours for Run to write; wake signals it.
	pending []hourBatch
	wake    chan struct{}
}

type hourBatch struct {
	hour   time.Time
	counts map[string]*hourCounts
}

type hourCounts struct {
	Allow int `json:"allow"`
	Deny  int `json:"deny"`
	// denials holds the reason sets already written this hour.
	denials map[string]bool
}

// recorderQueue bounds pending deny rows; past it rows are counted as
// dropped (and the count audited) rather than blocking decisions.
const recorderQueue = 4096

// NewDecisionRecorder returns a recorder writing to l; call Run.
func NewDecisionRecorder(l *Log) *DecisionRecorder {
	return &DecisionRecorder{log: l, counts: map[string]*hourCounts{}, queue: make(chan Entry, recorderQueue), wake: make(chan struct{}, 1)}
}

// Observe counts one decision. reasons are the deny's reason codes.
func (r *DecisionRecorder) Observe(deviceID string, allow bool, reasons []string, at time.Time) {
	hour := at.UTC().Truncate(time.Hour)
	r.mu.Lock()
	defer r.mu.Unlock()
	if hour.After(r.hour) {
		if len(r.counts) > 0 {
			r.pending = append(r.pending, hourBatch{r.hour, r.counts})
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
		r.counts, r.hour = map[string]*hourCounts{}, hour
	}
	c := r.counts[deviceID]
	if c == nil {
		c = &hourCounts{}
		r.counts[deviceID] = c
	}
	if allow {
		c.Allow++
	} else {
		c.Deny++
		key := strings.Join(reasons, ",")
		if !c.denials[key] {
			if c.denials == nil {
				c.denials = map[string]bool{}
			}
			c.denials[key] = true
			r.enqueue(Entry{Actor: ActorServer, Kind: KindDeny, DeviceID: deviceID, At: at,
				Details: map[string]any{"reasons": reasons, "first_this_hour": true}})
		}
	}
}

// enqueue must be called with r.mu held.
func (r *DecisionRecorder) enqueue(e Entry) {
	select {
	case r.queue <- e:
	default:
		r.dropped++
	}
}

// Run writes queued deny rows until ctx ends, then drains the queue and
// flushes the counts. Writes outlive ctx so that shutdown loses nothing.
func (r *DecisionRecorder) Run(ctx context.Context) {
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case e := <-r.queue:
			r.log.Record(wctx, e)
		case <-r.wake:
			r.writePending(wctx)
		case <-ctx.Done():
			for {
				select {
				case e := <-r.queue:
					r.log.Record(wctx, e)
				default:
					r.Flush(wctx)
					return
				}
			}
		}
	}
}

func (r *DecisionRecorder) writePending(ctx context.Context) {
	r.mu.Lock()
	batches := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, b := range batches {
		r.writeHour(ctx, b.hour, b.counts)
	}
}

// Flush writes finished hours and the current hour's counts now (at
// shutdown, or in tests) and starts counting afresh.
func (r *DecisionRecorder) Flush(ctx context.Context) {
	r.writePending(ctx)
	r.mu.Lock()
	counts, hour := r.counts, r.hour
	r.counts = map[string]*hourCounts{}
	r.mu.Unlock()
	if len(counts) > 0 {
		r.writeHour(ctx, hour, counts)
	}
}

func (r *DecisionRecorder) writeHour(ctx context.Context, hour time.Time, counts map[string]*hourCounts) {
	r.mu.Lock()
	dropped := r.dropped
	r.dropped = 0
	r.mu.Unlock()
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := counts[id]
		r.log.Record(ctx, Entry{Actor: ActorServer, Kind: KindDecisionsHourly, DeviceID: id, At: r.log.now(),
			Details: map[string]any{"hour": hour, "allow": c.Allow, "deny": c.Deny}})
	}
	if dropped > 0 {
		r.log.Record(ctx, Entry{Actor: ActorServer, Kind: KindDecisionsHourly, At: r.log.now(),
			Details: map[string]any{"hour": hour, "deny_rows_dropped": dropped}})
	}
}
