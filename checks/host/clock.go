package host

import (
	"time"

	"github.com/postern-dev/postern/internal/clock"
)

// Clocker is implemented by hosts that answer for a fixed moment: a
// replayed snapshot is frozen at the time it was recorded, so facts that
// carry a "checked at" time must say when the machine was read, not when
// the snapshot was replayed.
type Clocker interface {
	Now() time.Time
}

// Now returns the moment h describes: the recording time of a replayed
// snapshot, otherwise the wall clock. A snapshot without a real recording
// time (zero, or the Unix epoch a hand-built Fake starts from) counts as
// unset.
func Now(h Host) time.Time {
	if c, ok := h.(Clocker); ok {
		if t := c.Now(); t.After(time.Unix(0, 0)) {
			return t.UTC()
		}
	}
	return clock.Now().UTC()
}

// Now is when the snapshot was recorded.
func (r *Replayer) Now() time.Time { return r.meta.RecordedAt }
