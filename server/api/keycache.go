package api

import (
	"sync"
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
	m  map[string]cachedKey
}

type cachedKey struct {
	key store.APIKey
	at  time.Time
}

func (c *keyCache) get(id string, now time.Time) (store.APIKey, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= keyCacheTTL || now.Before(e.at) {
		return store.APIKey{}, false
	}
	return e.key, true
}

func (c *keyCache) put(k store.APIKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[string]cachedKey)
	}
	c.m[k.ID] = cachedKey{key: k, at: now}
}
