package api

import (
	"context"
	"sync"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// DefaultPostureTTL is how long a device's posture read from the store is
// reused by later decisions. A gateway asks about the same device for
// every request of a session; one read per device and second keeps the
// database out of the hot path. Writes made through this process (reports,
// renewals, revocations) drop the entry at once (ForgetOnWrite); a change
// written by another process, such as `postern-server device revoke`,
// shows within this delay, inside the two seconds promised for live
// revocation.
const DefaultPostureTTL = time.Second

// maxCachedPostures bounds the posture cache; past it the cache starts
// afresh, which only happens past the fleet's size.
const maxCachedPostures = 100_000

// PostureCache keeps device postures briefly for the decision handlers.
// Only found devices are kept. It is safe for concurrent use.
type PostureCache struct {
	ttl time.Duration

	mu sync.RWMutex
	m  map[lookup]cachedPosture
	// certOf maps a device to the certificate hash it was looked up by.
	certOf map[string]string
}

type cachedPosture struct {
	p  store.Posture
	at time.Time
}

// NewPostureCache returns a cache whose entries live ttl.
func NewPostureCache(ttl time.Duration) *PostureCache {
	return &PostureCache{ttl: ttl}
}

func (c *PostureCache) get(l lookup, now time.Time) (store.Posture, bool) {
	if c == nil {
		return store.Posture{}, false
	}
	c.mu.RLock()
	e, ok := c.m[l]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return store.Posture{}, false
	}
	return e.p, true
}

func (c *PostureCache) put(l lookup, p store.Posture, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedPostures {
		c.m = make(map[lookup]cachedPosture)
		c.certOf = make(map[string]string)
	}
	c.m[l] = cachedPosture{p: p, at: now}
	if l.certSHA256 != "" {
		c.certOf[p.Device.ID] = l.certSHA256
	}
}

// Forget drops the device's cached posture, however it was looked up.
func (c *PostureCache) Forget(deviceID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, lookup{deviceID: deviceID})
	if cert, ok := c.certOf[deviceID]; ok {
		delete(c.m, lookup{certSHA256: cert})
		delete(c.certOf, deviceID)
	}
}

// ForgetOnWrite returns st with every write about a device dropping that
// device from c, so that this process's decisions see its own writes.
func ForgetOnWrite(st store.Store, c *PostureCache) store.Store {
	if c == nil {
		return st
	}
	return &forgettingStore{Store: st, c: c}
}

type forgettingStore struct {
	store.Store
	c *PostureCache
}

func (s *forgettingStore) IngestReport(ctx context.Context, in store.Ingest) (bool, error) {
	dup, err := s.Store.IngestReport(ctx, in)
	s.c.Forget(in.DeviceID)
	return dup, err
}

func (s *forgettingStore) RenewCert(ctx context.Context, id, certSHA256 string, notAfter time.Time) error {
	err := s.Store.RenewCert(ctx, id, certSHA256, notAfter)
	s.c.Forget(id)
	return err
}

func (s *forgettingStore) Revoke(ctx context.Context, id string, at time.Time) error {
	err := s.Store.Revoke(ctx, id, at)
	s.c.Forget(id)
	return err
}
