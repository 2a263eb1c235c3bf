package api

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// keyCacheTTL is how long a looked-up API key is trusted without asking
// the store again: the delay before a revoked key stops working, traded
// for one database read less on every decision.
const keyCacheTTL = 5 * time.Second

// keyClock is the key cache's clock: the monotonic one, since the TTL is
// about this process and not about a decision's time. Tests replace it.
var keyClock = time.Now // wall clock: a TTL inside this process

// maxCachedKeys bounds the cache; gateways hold a handful of keys.
const maxCachedKeys = 1024

// keyCache remembers API keys found in the store. Only found keys are
// kept, so unknown IDs cannot grow it.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]*cachedKey
}

type cachedKey struct {
	key store.APIKey
	at  time.Time
	// recorded is when this process last wrote the key's use (Unix
	// nanoseconds of keyClock), carried over when the entry is renewed,
	// so that uses are written at most once per useRecordEvery.
	recorded *atomic.Int64
	// ownerOff is a key whose dashboard account is disabled or gone.
	ownerOff bool
}

func (c *keyCache) get(id string, now time.Time) (*cachedKey, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= keyCacheTTL || now.Before(e.at) {
		return nil, false
	}
	return e, true
}

func (c *keyCache) put(k store.APIKey, now time.Time, ownerOff bool) *cachedKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cachedKey{key: k, at: now, ownerOff: ownerOff}
	if old, ok := c.m[k.ID]; ok {
		e.recorded = old.recorded
	} else {
		e.recorded = new(atomic.Int64)
	}
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[string]*cachedKey)
	}
	c.m[k.ID] = e
	return e
}
