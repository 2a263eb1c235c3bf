package exceptions

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/store"
)

// DefaultRefresh is how often Index rereads the store, bounding how long
// a change made by the command line takes to apply.
const DefaultRefresh = 5 * time.Second

// Index answers, without touching the store, which exceptions apply to a
// device and when its user last attested. It is safe for concurrent use.
type Index struct {
	st  store.LifecycleStore
	log *slog.Logger
	now func() time.Time

	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	byDevice map[string][]store.Exception
	byOrg    map[string][]store.Exception
	attested map[string]time.Time
}

// NewIndex returns an empty index; call Refresh before use, then Run.
func NewIndex(st store.LifecycleStore, now func() time.Time, log *slog.Logger) *Index {
	if now == nil {
		now = clock.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix := &Index{st: st, log: log, now: now}
	ix.snap.Store(&snapshot{})
	return ix
}

// Refresh rereads exceptions and attestations from the store.
func (ix *Index) Refresh(ctx context.Context) error {
	now := ix.now()
	es, err := ix.st.Exceptions(ctx, now)
	if err != nil {
		return err
	}
	// Every device's latest attestation, however old: an expired one
	// still dates the grace that follows its expiry (one row a device).
	att, err := ix.st.LatestAttestations(ctx, time.Time{})
	if err != nil {
		return err
	}
	s := &snapshot{byDevice: map[string][]store.Exception{}, byOrg: map[string][]store.Exception{}, attested: att}
	for _, e := range es {
		if !e.EndedAt.IsZero() {
			continue
		}
		switch e.Scope {
		case store.ScopeDevice:
			s.byDevice[e.Subject] = append(s.byDevice[e.Subject], e)
		case store.ScopeOrg:
			s.byOrg[e.Subject] = append(s.byOrg[e.Subject], e)
		}
	}
	ix.snap.Store(s)
	return nil
}

// Run refreshes every interval (DefaultRefresh if zero) until ctx ends.
func (ix *Index) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultRefresh
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ix.Refresh(ctx); err != nil && ctx.Err() == nil {
				ix.log.Warn("refresh exceptions failed", "err", err)
			}
		}
	}
}

// Waived returns the exceptions that apply at now to the device (its own
// and its organization's), by control; nil when none do.
func (ix *Index) Waived(deviceID, org string, now time.Time) map[checks.ControlID]store.Exception {
	s := ix.snap.Load()
	var out map[checks.ControlID]store.Exception
	add := func(es []store.Exception) {
		for _, e := range es {
			if !e.ActiveAt(now) {
				continue
			}
			if out == nil {
				out = map[checks.ControlID]store.Exception{}
			}
			id := checks.ControlID(e.Control)
			// Keep the one that lasts longest: it is what the user sees.
			if cur, ok := out[id]; !ok || e.ExpiresAt.After(cur.ExpiresAt) {
				out[id] = e
			}
		}
	}
	add(s.byDevice[deviceID])
	if org != "" {
		add(s.byOrg[org])
	}
	return out
}

// AttestedAt returns the device's latest attestation time, if any.
func (ix *Index) AttestedAt(deviceID string) (time.Time, bool) {
	t, ok := ix.snap.Load().attested[deviceID]
	return t, ok
}
