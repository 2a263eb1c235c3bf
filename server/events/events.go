package events

import (
	"context"
	"sync"
	"time"

	"github.com/postern-dev/postern/internal/clock"
)

// Status is a device's compliance as CAEP names it.
type Status string

// Compliance statuses, as in the CAEP device-compliance-change event.
const (
	StatusCompliant    Status = "compliant"
	StatusNotCompliant Status = "not-compliant"
)

// StatusOf maps a decision's allow bit to a CAEP status.
func StatusOf(allow bool) Status {
	if allow {
		return StatusCompliant
	}
	return StatusNotCompliant
}

// Kind tells why an event was published.
type Kind string

// Event kinds. Only KindComplianceChange is a CAEP device-compliance-change;
// the others let subscribers end sessions of devices that are gone.
const (
	// KindComplianceChange: the device's decision flipped between allow
	// and deny, or its deny reasons changed.
	KindComplianceChange Kind = "device-compliance-change"
	// KindDeviceRevoked: an administrator revoked the device.
	KindDeviceRevoked Kind = "device-revoked"
	// KindPolicyChanged: a new policy version became active; subscribers
	// that cache decisions should drop them.
	KindPolicyChanged Kind = "policy-changed"
)

// Event is one decision change. Its JSON encoding is part of the public
// event stream: fields are only ever added.
type Event struct {
	// ID is unique per event and increases; SSE clients resume from it.
	// On a server it is the sequence number of the audit row that
	// recorded the change, the same on every replica.
	ID   uint64 `json:"id"`
	Kind Kind   `json:"kind"`
	// DeviceID is the subject; empty for KindPolicyChanged.
	DeviceID string `json:"device_id,omitempty"`
	// CertSHA256 is the hex SHA-256 of the device's certificate, so that a
	// gateway keyed on the client certificate can match the session.
	CertSHA256 string `json:"cert_sha256,omitempty"`
	// Org is the device's organization, when known.
	Org            string `json:"org,omitempty"`
	PreviousStatus Status `json:"previous_status,omitempty"`
	CurrentStatus  Status `json:"current_status,omitempty"`
	// ReasonCodes are the decision's machine-readable deny reasons
	// (decision.Code*), with the control when one is involved, as
	// "control_failed:firewall".
	ReasonCodes []string `json:"reason_codes,omitempty"`
	// ReasonAdmin is a short plain-language explanation for operators.
	ReasonAdmin string `json:"reason_admin,omitempty"`
	// PolicyVersion is the policy version the decision was made under.
	PolicyVersion uint64 `json:"policy_version,omitempty"`
	// EventTime is when the change happened (CAEP event_timestamp).
	EventTime time.Time `json:"event_time"`
}

// Default sizes.
const (
	// DefaultBuffer is how many events a subscriber may lag behind before
	// it is dropped.
	DefaultBuffer = 256
	// DefaultReplay is how many recent events the bus keeps for
	// subscribers that resume from an ID (SSE Last-Event-ID).
	DefaultReplay = 1024
)

// Bus fans events out to subscribers and keeps the most recent ones for
// subscribers that resume. Publish never blocks: a subscriber that falls
// DefaultBuffer events behind is closed, and must reconnect and resume
// from its last ID. The zero value is not usable; call NewBus.
//
// On a server, a Feed publishes the events of the audit log, whose row
// sequence numbers are the event IDs: they increase, survive restarts
// and are the same on every replica. They are not contiguous (other audit
// rows come between), so the bus tracks the range it knows completely:
// every event with an ID above floor and up to head is retained.
type Bus struct {
	now func() time.Time

	mu     sync.Mutex
	head   uint64 // the highest ID (or audit seq) the bus has seen
	floor  uint64 // every event above floor is in recent
	subs   map[*subscription]struct{}
	recent []Event // ring of the last DefaultReplay events, oldest first
	closed bool
}

type subscription struct {
	ch chan Event
}

// NewBus returns an empty bus. now stamps events whose EventTime is zero;
// nil means clock.Now.
func NewBus(now func() time.Time) *Bus {
	if now == nil {
		now = clock.Now
	}
	return &Bus{now: now, subs: make(map[*subscription]struct{})}
}

// Publish delivers e to every subscriber and retains it. An e.ID of zero
// is given the next ID (head + 1); a set ID at or below the head is a
// repeat and is dropped, so that a feed re-reading rows publishes each
// once. A zero EventTime is stamped with the current time.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if e.ID == 0 {
		e.ID = b.head + 1
	} else if e.ID <= b.head {
		return
	}
	b.head = e.ID
	if e.EventTime.IsZero() {
		e.EventTime = b.now()
	}
	e.EventTime = e.EventTime.UTC()
	if len(b.recent) == DefaultReplay {
		b.floor = b.recent[0].ID
		copy(b.recent, b.recent[1:])
		b.recent = b.recent[:DefaultReplay-1]
	}
	b.recent = append(b.recent, e)
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			// A slow reader must not hold up decisions: drop it.
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// Advance records that every event up to id was published: a feed that
// read audit rows which were not events calls it, so that LastID, and
// the resume check, cover them.
func (b *Bus) Advance(id uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.head = max(b.head, id)
}

// Prime replaces the retained events with evs (oldest first, IDs
// increasing, at most DefaultReplay are kept), which hold every event
// with an ID above floor and up to head. A feed calls it at start with
// the newest events of the audit log, before anything is published, so
// that clients resuming after a restart or from another replica get what
// they missed.
func (b *Bus) Prime(floor uint64, evs []Event, head uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(evs); n > DefaultReplay {
		floor = evs[n-DefaultReplay-1].ID
		evs = evs[n-DefaultReplay:]
	}
	b.recent = make([]Event, 0, DefaultReplay)
	for _, e := range evs {
		e.EventTime = e.EventTime.UTC()
		b.recent = append(b.recent, e)
	}
	b.floor = floor
	b.head = head
	if n := len(evs); n > 0 {
		b.head = max(head, evs[n-1].ID)
	}
}

// Subscribe returns a channel of events published after the call, first
// replaying the retained events with an ID above afterID (0: none). The
// channel is closed when ctx ends, when the subscriber falls behind, or
// when the bus is closed. ok is false when the bus cannot tell that the
// replay is complete: afterID is below what the retained events cover
// (too old), or above the newest ID the bus knows (an ID of another
// database, or of a time before the IDs came from the audit log). The
// caller should then refetch decisions; the replay holds whatever
// retained events are above afterID.
func (b *Bus) Subscribe(ctx context.Context, afterID uint64) (ch <-chan Event, ok bool) {
	b.mu.Lock()
	s := &subscription{ch: make(chan Event, DefaultBuffer+DefaultReplay)}
	ok = true
	if afterID > 0 {
		ok = afterID >= b.floor && afterID <= b.head
		for _, e := range b.recent {
			if e.ID > afterID {
				s.ch <- e
			}
		}
	}
	if b.closed {
		close(s.ch)
		b.mu.Unlock()
		return s.ch, ok
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.unsubscribe(s)
	}()
	return s.ch, ok
}

func (b *Bus) unsubscribe(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

// Close closes every subscriber's channel; later publishes are dropped.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.ch)
	}
}

// Closed reports whether Close was called. A subscriber whose channel
// closed while the bus is open and its context live was dropped for
// falling behind.
func (b *Bus) Closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// LastID returns the highest ID the bus has seen (published or passed
// by Advance); 0 before any. A client told to reset resumes from it.
func (b *Bus) LastID() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.head
}
