package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// DefaultPoll is how often a Feed reads the audit log when nothing nudges
// it: the delay with which a change recorded by another replica reaches
// this one's subscribers.
const DefaultPoll = time.Second

// feedPage bounds the audit rows read in one query.
const feedPage = 1000

// Kinds lists the audit row kinds that are events: decision changes
// (revocations among them, with the reason device_revoked) and applied
// policies.
var Kinds = []string{audit.KindDecisionChanged, audit.KindPolicyApplied}

// ChangeDetails is the details object of a decision_changed audit row:
// what the decision engine records and what a Feed turns into an Event.
// Rows written before CertSHA256, Org, ReasonAdmin and EventTime were
// added are still read (the device is looked up; the row's time is used).
type ChangeDetails struct {
	PreviousAllow   bool     `json:"previous_allow"`
	Allow           bool     `json:"allow"`
	PreviousReasons []string `json:"previous_reasons"`
	Reasons         []string `json:"reasons"`
	PolicyVersion   uint64   `json:"policy_version"`
	CertSHA256      string   `json:"cert_sha256,omitempty"`
	Org             string   `json:"org,omitempty"`
	// ReasonAdmin is the decision's plain-language summary.
	ReasonAdmin string    `json:"reason_admin,omitempty"`
	EventTime   time.Time `json:"event_time,omitzero"`
}

// FeedSource is the part of the store a Feed reads (store.Store has it).
type FeedSource interface {
	AuditTail(ctx context.Context) (store.AuditRow, error)
	AuditAnchor(ctx context.Context) (store.AuditAnchor, error)
	AuditRows(ctx context.Context, afterSeq uint64, limit int) ([]store.AuditRow, error)
	LatestAuditRows(ctx context.Context, kinds []string, atOrBefore uint64, limit int) ([]store.AuditRow, error)
	Device(ctx context.Context, id string) (store.Device, error)
}

// Feed publishes the events of the audit log on a Bus, in audit order,
// with the row's seq as the event ID. Every replica sharing a database
// runs one, so every replica's subscribers see every replica's changes
// under the same IDs, and a restarted server continues the same IDs.
type Feed struct {
	src   FeedSource
	bus   *Bus
	log   *slog.Logger
	nudge chan struct{}
	// onEvent, if set, sees each event read before it is published.
	onEvent func(Event)
	// mu makes Sync calls take turns, so that rows are published once
	// and in order.
	mu sync.Mutex
}

// NewFeed returns a feed from src to bus; logger may be nil.
func NewFeed(src FeedSource, bus *Bus, logger *slog.Logger) *Feed {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Feed{src: src, bus: bus, log: logger, nudge: make(chan struct{}, 1)}
}

// OnEvent has fn called with every event the feed reads from the audit
// log from now on (this replica's and every other's), before it is
// published: a server forgets what it cached about the event's device.
// Call it before Run; fn must not block.
func (f *Feed) OnEvent(fn func(Event)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onEvent = fn
}

// Prime fills the bus's replay memory with the newest DefaultReplay events
// of the audit log and sets its position to the log's tail, so that a
// client resuming with an ID from before a restart, or from another
// replica, gets what it missed. Call it once, before Sync or Run.
func (f *Feed) Prime(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	tail, err := f.src.AuditTail(ctx)
	if err != nil {
		return err
	}
	// One row more than is kept: the newest event left out is where the
	// memory's complete range starts.
	rows, err := f.src.LatestAuditRows(ctx, Kinds, tail.Seq, DefaultReplay+1)
	if err != nil {
		return err
	}
	var floor uint64
	if len(rows) > DefaultReplay {
		floor, rows = rows[0].Seq, rows[1:]
	} else {
		// Every event still in the log is kept; those before the anchor
		// were pruned.
		a, err := f.src.AuditAnchor(ctx)
		if err != nil {
			return err
		}
		floor = a.Seq
	}
	evs := make([]Event, 0, len(rows))
	for _, r := range rows {
		if e, ok := f.event(ctx, r); ok {
			evs = append(evs, e)
		}
	}
	f.bus.Prime(floor, evs, tail.Seq)
	return nil
}

// Sync publishes every event recorded after the bus's last ID.
func (f *Feed) Sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	after := f.bus.LastID()
	for {
		evs, last, n, err := f.read(ctx, after, feedPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if f.onEvent != nil {
				f.onEvent(e)
			}
			f.bus.Publish(e)
		}
		f.bus.Advance(last)
		if n < feedPage {
			return nil
		}
		after = last
	}
}

// Nudge makes Run read the log now: a replica that just recorded a change
// calls it, so that its own subscribers hear of it within milliseconds.
func (f *Feed) Nudge() {
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// Run syncs every poll interval and whenever nudged, until ctx ends.
func (f *Feed) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.nudge:
		}
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("read events from the audit log failed", "err", err)
		}
	}
}

// Head returns the seq of the audit log's last row: where a reader that
// wants only new events starts.
func (f *Feed) Head(ctx context.Context) (uint64, error) {
	tail, err := f.src.AuditTail(ctx)
	return tail.Seq, err
}

// Read returns the events among the next (at most) limit audit rows after
// the seq after, and the seq of the last row read (after when none was).
// gap is true when rows right after after were pruned from the log, so
// events may have been missed.
func (f *Feed) Read(ctx context.Context, after uint64, limit int) (evs []Event, last uint64, gap bool, err error) {
	rows, err := f.src.AuditRows(ctx, after, limit)
	if err != nil {
		return nil, after, false, err
	}
	// The log's seqs have no holes, so a first row past after+1 means a
	// pruned stretch.
	gap = len(rows) > 0 && rows[0].Seq > after+1
	evs, last = f.events(ctx, after, rows)
	return evs, last, gap, nil
}

func (f *Feed) read(ctx context.Context, after uint64, limit int) (evs []Event, last uint64, n int, err error) {
	rows, err := f.src.AuditRows(ctx, after, limit)
	if err != nil {
		return nil, after, 0, err
	}
	evs, last = f.events(ctx, after, rows)
	return evs, last, len(rows), nil
}

// events converts rows, returning the last row's seq (after if none).
func (f *Feed) events(ctx context.Context, after uint64, rows []store.AuditRow) ([]Event, uint64) {
	var evs []Event
	last := after
	for _, r := range rows {
		if e, ok := f.event(ctx, r); ok {
			evs = append(evs, e)
		}
		last = r.Seq
	}
	return evs, last
}

// event converts an audit row; ok is false for rows that are not events.
func (f *Feed) event(ctx context.Context, r store.AuditRow) (Event, bool) {
	switch r.Kind {
	case audit.KindDecisionChanged:
		var d ChangeDetails
		if err := json.Unmarshal(r.Details, &d); err != nil {
			f.log.Warn("unreadable decision change in the audit log", "seq", r.Seq, "err", err)
			return Event{}, false
		}
		e := Event{ID: r.Seq, Kind: KindComplianceChange, DeviceID: r.DeviceID, CertSHA256: d.CertSHA256, Org: d.Org,
			PreviousStatus: StatusOf(d.PreviousAllow), CurrentStatus: StatusOf(d.Allow), ReasonCodes: d.Reasons,
			ReasonAdmin: d.ReasonAdmin, PolicyVersion: d.PolicyVersion, EventTime: d.EventTime}
		if e.EventTime.IsZero() {
			e.EventTime = r.At
		}
		if len(e.ReasonCodes) == 0 {
			e.ReasonCodes = nil
		}
		if e.CertSHA256 == "" && r.DeviceID != "" {
			// A row written before the details carried the device.
			dev, err := f.src.Device(ctx, r.DeviceID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				f.log.Warn("look up the device of an old decision change failed", "seq", r.Seq, "err", err)
			}
			e.CertSHA256, e.Org = dev.CertSHA256, dev.Org
		}
		return e, true
	case audit.KindPolicyApplied:
		var d struct {
			Version uint64 `json:"version"`
		}
		if err := json.Unmarshal(r.Details, &d); err != nil {
			f.log.Warn("unreadable policy change in the audit log", "seq", r.Seq, "err", err)
			return Event{}, false
		}
		return Event{ID: r.Seq, Kind: KindPolicyChanged, PolicyVersion: d.Version, EventTime: r.At}, true
	}
	return Event{}, false
}
