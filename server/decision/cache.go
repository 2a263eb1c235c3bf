package decision

import (
	"sync"
	"time"

	"github.com/postern-dev/postern/checks"
)

// DefaultCacheTTL bounds how long cached verdicts are reused, so that
// time-dependent evaluations (such as the age of anti-virus definitions,
// whose limits are hours and days, against facts that are themselves up
// to a report interval old) are redone at least this often. The engine's
// sweep (every 15 s on a server) re-evaluates each device whose verdicts
// are older than half of it, so that requests find every device's
// verdicts fresh and evaluate nothing, whatever the fleet's size; the
// sweep's own cost is one evaluation per device and minute.
const DefaultCacheTTL = 2 * time.Minute

// DefaultCacheSize bounds the number of devices whose verdicts are cached.
const DefaultCacheSize = 100_000

// Cache keeps each device's verdicts for its latest report under a given
// policy version. It is safe for concurrent use.
type Cache struct {
	ttl time.Duration
	max int

	mu sync.RWMutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	seq, policyVersion uint64
	at                 time.Time
	verdicts           []checks.Verdict
}

// NewCache returns a cache of at most size devices whose entries live ttl.
func NewCache(size int, ttl time.Duration) *Cache {
	return &Cache{ttl: ttl, max: size, m: make(map[string]cacheEntry)}
}

// Verdicts returns the verdicts of the device's report with sequence seq
// under policy p (whose version is policyVersion) at now, calling load to
// obtain the report only when they are not cached. The returned slice is
// shared: callers must not modify it.
func (c *Cache) Verdicts(deviceID string, seq, policyVersion uint64, p *checks.Policy, now time.Time, load func() (*checks.Report, error)) ([]checks.Verdict, error) {
	c.mu.RLock()
	e, ok := c.m[deviceID]
	c.mu.RUnlock()
	if ok && e.seq == seq && e.policyVersion == policyVersion && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.verdicts, nil
	}
	r, err := load()
	if err != nil {
		return nil, err
	}
	vs := checks.Evaluate(r, p, now)
	c.Put(deviceID, seq, policyVersion, now, vs)
	return vs, nil
}

// Put keeps vs as the verdicts of the device's report seq under the policy
// version, evaluated at at: the report's evaluation at ingest, so that the
// decision after it evaluates nothing again.
func (c *Cache) Put(deviceID string, seq, policyVersion uint64, at time.Time, vs []checks.Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Dropping everything is crude but bounded and rare: the cache only
		// fills up past the number of devices in the fleet.
		clear(c.m)
	}
	c.m[deviceID] = cacheEntry{seq: seq, policyVersion: policyVersion, at: at, verdicts: vs}
}

// Expire drops the device's cached verdicts if they are at least minAge
// old at now, so that the next Verdicts evaluates them afresh.
func (c *Cache) Expire(deviceID string, now time.Time, minAge time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[deviceID]; ok && (now.Sub(e.at) >= minAge || now.Before(e.at)) {
		delete(c.m, deviceID)
	}
}

// TTL returns how long verdicts are reused.
func (c *Cache) TTL() time.Duration { return c.ttl }

// Forget drops the device's cached verdicts.
func (c *Cache) Forget(deviceID string) {
	c.mu.Lock()
	delete(c.m, deviceID)
	c.mu.Unlock()
}
