package ospatched

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
)

// Cache keeps the results of slow pending-update searches (apt's
// simulation, dnf updateinfo, Windows Update, softwareupdate --list) so
// that a check cycle stays fast.
//
// Entries are keyed by host and source: the live host, a recorder and
// each replayed snapshot are different hosts, so a recording always runs
// its own search and a replay never sees the live machine's answer. A
// host whose dynamic type is not comparable is never cached.
//
// A search runs in the background under its own timeout, detached from
// the cycle's context: when the cycle's deadline comes first, the last
// result is returned if there is one (its CheckedAt shows its age), else
// a timeout error, and the next cycle picks up the finished search. A
// successful result is fresh for the source's TTL, an error for
// errorTTL. The cache also remembers when each pending update was first
// seen. It holds at most maxHosts*sources entries, evicting the oldest.
type Cache struct {
	mu      sync.Mutex
	entries map[cacheKey]*entry
	now     func() time.Time
}

const (
	errorTTL     = 5 * time.Minute
	maxEntries   = 32
	maxFirstSeen = 2000
)

type cacheKey struct {
	h      any
	source string
}

type entry struct {
	val       *Pending
	err       error
	at        time.Time
	running   chan struct{} // closed when the search in flight ends
	firstSeen map[string]time.Time
	used      time.Time
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[cacheKey]*entry{}, now: clock.Now} }

// shared is the cache the collectors use.
var shared = NewCache()

// search is one slow source.
type search struct {
	name    string
	ttl     time.Duration
	timeout time.Duration
	run     func(ctx context.Context) (*Pending, error)
}

// get returns the source's result for h, from the cache while fresh.
func (c *Cache) get(ctx context.Context, h host.Host, s search) (*Pending, error) {
	if t := reflect.TypeOf(h); t == nil || !t.Comparable() {
		sctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		p, err := s.run(sctx)
		return stampFirstSeen(p, nil), err
	}
	key := cacheKey{h: h, source: s.name}
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		c.evictLocked()
		e = &entry{firstSeen: map[string]time.Time{}}
		c.entries[key] = e
	}
	e.used = c.now()
	if !e.at.IsZero() && e.running == nil {
		ttl := s.ttl
		if e.err != nil {
			ttl = errorTTL
		}
		if c.now().Sub(e.at) < ttl {
			val, err := e.val, e.err
			c.mu.Unlock()
			return val, err
		}
	}
	if e.running == nil {
		e.running = make(chan struct{})
		go c.refresh(e, s)
	}
	done := e.running
	c.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.at.IsZero() {
		return nil, host.Wrap(host.ErrTimeout, fmt.Errorf("the %s search is still running (it can take minutes); the next check will use its result", s.name))
	}
	return e.val, e.err
}

func (c *Cache) refresh(e *entry, s search) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	p, err := s.run(ctx)
	if err == nil && p == nil {
		err = errors.New("the search returned nothing")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if err != nil && e.val != nil && host.ErrorKind(err) == host.KindTimeout {
		// Keep the previous answer; try again after errorTTL.
		e.at = now.Add(-s.ttl + errorTTL)
	} else {
		e.val, e.err, e.at = stampFirstSeen(p, e.firstSeen), err, now
	}
	close(e.running)
	e.running = nil
}

// stampFirstSeen records when each pending update was first seen and
// forgets the ones no longer pending.
func stampFirstSeen(p *Pending, seen map[string]time.Time) *Pending {
	if p == nil {
		return nil
	}
	current := map[string]bool{}
	for i := range p.Updates {
		u := &p.Updates[i]
		k := u.Name + " " + u.Version
		current[k] = true
		t, ok := seen[k]
		if !ok {
			t = p.CheckedAt
			if seen != nil && len(seen) < maxFirstSeen {
				seen[k] = t
			}
		}
		u.FirstSeen = &t
	}
	for k := range seen {
		if !current[k] {
			delete(seen, k)
		}
	}
	return p
}

// evictLocked drops the least recently used idle entry when full.
func (c *Cache) evictLocked() {
	if len(c.entries) < maxEntries {
		return
	}
	var oldest cacheKey
	var oldestAt time.Time
	found := false
	for k, e := range c.entries {
		if e.running != nil {
			continue
		}
		if !found || e.used.Before(oldestAt) {
			oldest, oldestAt, found = k, e.used, true
		}
	}
	if found {
		delete(c.entries, oldest)
	}
}
