package events

import (
	"context"
	"sync"
	"time"
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

// Publisher is what the decision side calls; *Bus implements it.
type Publisher interface {
	Publish(e Event)
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

// Bus fans events out to subscribers. Publish never blocks: a subscriber
// that falls DefaultBuffer events behind is closed, and must reconnect
// and resume from its last ID. The zero value is not usable; call NewBus.
type Bus struct {
	now func() time.Time

	mu     sync.Mutex
	nextID uint64
	subs   map[*subscription]struct{}
	recent []Event // ring of the last DefaultReplay events, oldest first
	closed bool
}

type subscription struct {
	ch chan Event
}

// NewBus returns an empty bus. now stamps events whose EventTime is zero;
// nil means time.Now.
func NewBus(now func() time.Time) *Bus {
	return NewBusFrom(now, 1)
}

// NewBusFrom is NewBus with the first event ID given. A server passes
// its start time in microseconds, so that IDs keep growing across
// restarts and a client resuming from an ID of an earlier run is told it
// missed events instead of being handed a replay that looks complete.
func NewBusFrom(now func() time.Time, firstID uint64) *Bus {
	if now == nil {
		now = time.Now
	}
	if firstID == 0 {
		firstID = 1
	}
	return &Bus{now: now, nextID: firstID, subs: make(map[*subscription]struct{})}
}

// RestartSafeFirstID is the first event ID NewBusFrom should get at
// time t: microseconds since the Unix epoch (exact in a JSON number
// until the year 2255).
func RestartSafeFirstID(t time.Time) uint64 {
	if us := t.UnixMicro(); us > 0 {
		return uint64(us)
	}
	return 1
}

// Publish assigns e the next ID (and the current time if EventTime is
// zero) and delivers it to every subscriber.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	e.ID = b.nextID
	b.nextID++
	if e.EventTime.IsZero() {
		e.EventTime = b.now()
	}
	e.EventTime = e.EventTime.UTC()
	if len(b.recent) == DefaultReplay {
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

// Subscribe returns a channel of events published after the call, first
// replaying the retained events with an ID above afterID (0: none). The
// channel is closed when ctx ends, when the subscriber falls behind, or
// when the bus is closed. ok is false when afterID is older than the
// retained events or unknown to this bus (IDs restart with the server),
// so some were missed and the caller should refetch decisions; the replay
// then holds whatever retained events are above afterID.
func (b *Bus) Subscribe(ctx context.Context, afterID uint64) (ch <-chan Event, ok bool) {
	b.mu.Lock()
	s := &subscription{ch: make(chan Event, DefaultBuffer+DefaultReplay)}
	ok = true
	if afterID > 0 {
		// An ID from the future means the server restarted and IDs began
		// again; an ID before the ring means events were dropped.
		if afterID >= b.nextID || (len(b.recent) > 0 && b.recent[0].ID > afterID+1) {
			ok = false
		}
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

// LastID returns the ID of the latest published event; before the first,
// one less than the first ID.
func (b *Bus) LastID() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nextID - 1
}

var _ Publisher = (*Bus)(nil)
