package serve

import (
	"context"
	"log/slog"
	"time"

	"github.com/postern-dev/postern/server/store"
)

const (
	// revocationPollEvery bounds how late a revocation written by another
	// process (`postern-server device revoke`) cuts the device's live
	// connection.
	revocationPollEvery = 2 * time.Second
	// revocationOverlap re-reads revocations this much older than the
	// newest seen, so that one committed late with an earlier time (a
	// skewed clock, a slow writer) is not missed.
	revocationOverlap = time.Minute
)

// revocationWatcher cuts off devices revoked while connected.
type revocationWatcher struct {
	list       store.RevocationLister
	disconnect func(deviceID string) int
	// changed re-decides the device and publishes the change.
	changed func(ctx context.Context, deviceID string)
	seen    map[string]time.Time
	newest  time.Time
}

// newRevocationWatcher watches st's revocations, this process's and other
// processes' (the command line) alike.
func newRevocationWatcher(st store.Store, disconnect func(string) int, changed func(context.Context, string)) *revocationWatcher {
	return &revocationWatcher{list: st, disconnect: disconnect, changed: changed, seen: map[string]time.Time{}}
}

// run polls for revocations until ctx ends.
func (w *revocationWatcher) run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(revocationPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.poll(ctx); err != nil && ctx.Err() == nil {
			log.Warn("poll revocations failed", "err", err)
		}
	}
}

// revoked handles a revocation this process made: at once, without
// waiting for the poll.
func (w *revocationWatcher) revoked(ctx context.Context, deviceID string) {
	w.disconnect(deviceID)
	w.changed(ctx, deviceID)
}

// prime records the revocations already made, which need no action.
func (w *revocationWatcher) prime(ctx context.Context) error {
	for w.list != nil {
		rs, err := w.list.RevokedSince(ctx, w.newest)
		if err != nil {
			return err
		}
		before := w.newest
		for _, r := range rs {
			w.seen[r.DeviceID], w.newest = r.RevokedAt, r.RevokedAt
		}
		if len(rs) < store.MaxRevocationsListed || !w.newest.After(before) {
			return nil
		}
	}
	return nil
}

// poll acts on revocations not seen before.
func (w *revocationWatcher) poll(ctx context.Context) error {
	since := w.newest.Add(-revocationOverlap)
	rs, err := w.list.RevokedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if _, ok := w.seen[r.DeviceID]; ok {
			continue
		}
		w.seen[r.DeviceID] = r.RevokedAt
		if r.RevokedAt.After(w.newest) {
			w.newest = r.RevokedAt
		}
		w.revoked(ctx, r.DeviceID)
	}
	for id, at := range w.seen {
		if !at.After(since) {
			delete(w.seen, id)
		}
	}
	return nil
}

// onRevokeStore calls onRevoke after every successful Revoke through it,
// so that a revocation made by this process (the dashboard) cuts the
// device off at once.
type onRevokeStore struct {
	store.Store
	onRevoke func(ctx context.Context, deviceID string)
}

func (s *onRevokeStore) Revoke(ctx context.Context, id string, at time.Time) error {
	if err := s.Store.Revoke(ctx, id, at); err != nil {
		return err
	}
	s.onRevoke(context.WithoutCancel(ctx), id)
	return nil
}

// notifyRevoke returns st calling onRevoke after each revocation.
func notifyRevoke(st store.Store, onRevoke func(ctx context.Context, deviceID string)) store.Store {
	return &onRevokeStore{Store: st, onRevoke: onRevoke}
}
