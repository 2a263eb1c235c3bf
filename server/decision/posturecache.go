package decision

import (
	"context"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/store"
)

// DefaultPostureTTL is how long a device's posture read from the store is
// reused by later decisions when nothing says it changed. A gateway asks
// about every device of a session again and again; with the postures of
// the whole fleet in memory a decision costs the same with 10,000 devices
// as with 10. What changes a posture drops the entry at once: writes made
// through this process (reports, renewals, revocations, enrollments: see
// ForgetOnWrite), revocations by other processes (the server's revocation
// watcher, every 2 s), and every decision change any replica records (the
// server forgets the device of each event its audit feed reads, within a
// second). What is left for the TTL is a report stored by another replica
// that changed no decision: until then this replica answers from the
// previous report, which only shows as an older posture age.
//
// Only the posture is cached, never a decision: report age, grace periods,
// inactivity and exception expiry are computed at each request's time.
const DefaultPostureTTL = 30 * time.Second

// readTimeout bounds one store read of a posture; a cached posture needs
// no deadline, so the hot path sets up none.
const readTimeout = 10 * time.Second

// maxCachedPostures bounds the posture cache; past it the cache starts
// afresh, which only happens past the fleet's size.
const maxCachedPostures = 100_000

// stripes is the number of write counters guarding fills; a power of two.
const stripes = 64

// PostureCache keeps device postures briefly, by device ID and by
// certificate hash. Only found devices are kept, so unknown identities
// cannot grow it. It is safe for concurrent use; a nil *PostureCache reads
// the store every time.
type PostureCache struct {
	ttl time.Duration
	// now is the cache's clock: the monotonic one, not a decision clock,
	// since the TTL is about other processes' writes. Tests replace it.
	now  func() time.Time
	seed maphash.Seed
	// writes counts Forget calls per stripe of device IDs. A fill records
	// the counters before its store read and is dropped if the device's
	// counter moved meanwhile, so a read racing a write cannot park the
	// old posture in the cache for a whole TTL.
	writes [stripes]atomic.Uint64

	mu sync.RWMutex
	m  map[Lookup]cachedPosture
	// certOf maps a device to the certificate hash it was looked up by.
	certOf map[string]string
	// written are the devices forgotten since the fleet was last read
	// (Fleet re-reads them one by one), and writtenMany is set past
	// maxWritten, when one bulk read costs less.
	written     map[string]struct{}
	writtenMany bool

	// fleetMu serializes Fleet; fleet is the whole fleet's postures as
	// Fleet last returned them, read in bulk at fleetAt.
	fleetMu sync.Mutex
	fleet   []store.Posture
	fleetAt time.Time
}

// maxWritten bounds the devices Fleet re-reads one by one; more are read
// again with the rest of the fleet.
const maxWritten = 500

type cachedPosture struct {
	p  store.Posture
	at time.Time
}

// NewPostureCache returns a cache whose entries live ttl; ttl <= 0 turns
// caching off.
func NewPostureCache(ttl time.Duration) *PostureCache {
	return &PostureCache{ttl: ttl, now: clock.Now, seed: maphash.MakeSeed()}
}

// TTL returns how long entries live.
func (c *PostureCache) TTL() time.Duration {
	if c == nil {
		return 0
	}
	return c.ttl
}

// Posture returns the posture of the device identified by l (by
// certificate hash when l has one), from the cache when a read younger
// than the TTL is there, otherwise from st. Callers must not modify the
// returned posture: it is shared.
func (c *PostureCache) Posture(ctx context.Context, st store.Store, l Lookup) (store.Posture, error) {
	if l.CertSHA256 != "" {
		l.DeviceID = ""
	}
	if c == nil || c.ttl <= 0 {
		return read(ctx, st, l)
	}
	if p, ok := c.get(l); ok {
		return p, nil
	}
	var before [stripes]uint64
	for i := range c.writes {
		before[i] = c.writes[i].Load()
	}
	now := c.now()
	p, err := read(ctx, st, l)
	if err != nil {
		return p, err
	}
	c.put(l, p, now, before[c.stripe(p.Device.ID)])
	return p, nil
}

// Fill reads every device's posture in bulk (store.Postures: the latest
// reports come without their bodies, which the engine reads only for
// verdicts it has not cached) and caches them by device ID and by
// certificate hash. The engine's sweep fills it so, so that the whole
// fleet's postures are in memory from the first sweep on and renewed at
// every sweep, whatever the gateways ask, for one query per sweep.
func (c *PostureCache) Fill(ctx context.Context, st store.Store) ([]store.Posture, error) {
	if c == nil || c.ttl <= 0 {
		return st.Postures(ctx)
	}
	var before [stripes]uint64
	for i := range c.writes {
		before[i] = c.writes[i].Load()
	}
	now := c.now()
	ps, err := st.Postures(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		w := before[c.stripe(p.Device.ID)]
		c.put(Lookup{DeviceID: p.Device.ID}, p, now, w)
		if p.Device.CertSHA256 != "" {
			c.put(Lookup{CertSHA256: p.Device.CertSHA256}, p, now, w)
		}
	}
	return ps, nil
}

func read(ctx context.Context, st store.Store, l Lookup) (store.Posture, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	if l.CertSHA256 != "" {
		return st.PostureByCert(ctx, l.CertSHA256)
	}
	return st.Posture(ctx, l.DeviceID)
}

func (c *PostureCache) stripe(deviceID string) int {
	return int(maphash.String(c.seed, deviceID) & (stripes - 1))
}

func (c *PostureCache) get(l Lookup) (store.Posture, bool) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[l]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return store.Posture{}, false
	}
	return e.p, true
}

// put caches p unless the device was written since its stripe's counter
// read writes; the check is under the lock that Forget takes, so a write
// either finds the entry to drop or stops it from being stored.
func (c *PostureCache) put(l Lookup, p store.Posture, at time.Time, writes uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes[c.stripe(p.Device.ID)].Load() != writes {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedPostures {
		c.m = make(map[Lookup]cachedPosture)
		c.certOf = make(map[string]string)
	}
	c.m[l] = cachedPosture{p: p, at: at}
	if l.CertSHA256 != "" {
		if old, ok := c.certOf[p.Device.ID]; ok && old != l.CertSHA256 {
			delete(c.m, Lookup{CertSHA256: old})
		}
		c.certOf[p.Device.ID] = l.CertSHA256
	}
}

// Forget drops the device's cached posture, however it was looked up, and
// keeps reads already under way from caching what they found.
func (c *PostureCache) Forget(deviceID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes[c.stripe(deviceID)].Add(1)
	c.noteWritten(deviceID)
	delete(c.m, Lookup{DeviceID: deviceID})
	if cert, ok := c.certOf[deviceID]; ok {
		delete(c.m, Lookup{CertSHA256: cert})
		delete(c.certOf, deviceID)
	}
}

// noteWritten records under c.mu that Fleet must read the device again.
func (c *PostureCache) noteWritten(deviceID string) {
	switch {
	case c.writtenMany:
	case len(c.written) >= maxWritten:
		c.written, c.writtenMany = nil, true
	default:
		if c.written == nil {
			c.written = make(map[string]struct{})
		}
		c.written[deviceID] = struct{}{}
	}
}

// Fleet returns every device's posture, ordered by device ID, as
// store.Postures does (latest reports without their hash and body), for
// the fleet's lists and counts. The fleet is read in bulk at most once a
// TTL; in between, only the devices written since (Forget: reports,
// enrollments, revocations, and the decision changes of other replicas)
// are read again, so that a page over 10,000 devices does not read 10,000
// postures from the store each time, and sees the same postures as the
// decisions the gateways get. The returned slice is shared: callers must
// not modify it. A nil cache, or one with caching off, reads the store.
func (c *PostureCache) Fleet(ctx context.Context, st store.Store) ([]store.Posture, error) {
	if c == nil || c.ttl <= 0 {
		return st.Postures(ctx)
	}
	c.fleetMu.Lock()
	defer c.fleetMu.Unlock()
	now := c.now()
	c.mu.Lock()
	written, many := c.written, c.writtenMany
	c.written, c.writtenMany = nil, false
	c.mu.Unlock()
	if many || c.fleet == nil || now.Sub(c.fleetAt) >= c.ttl || now.Before(c.fleetAt) {
		ps, err := st.Postures(ctx)
		if err != nil {
			c.forgetFleet()
			return nil, err
		}
		c.fleet, c.fleetAt = ps, now
		return ps, nil
	}
	if len(written) == 0 {
		return c.fleet, nil
	}
	// Copy on write: earlier callers may still be reading c.fleet.
	next := slices.Clone(c.fleet)
	for id := range written {
		p, err := read(ctx, st, Lookup{DeviceID: id})
		i, found := slices.BinarySearchFunc(next, id, func(p store.Posture, id string) int { return strings.Compare(p.Device.ID, id) })
		switch {
		case errors.Is(err, store.ErrNotFound):
			if found {
				next = slices.Delete(next, i, i+1)
			}
		case err != nil:
			c.forgetFleet()
			return nil, err
		case found:
			next[i] = withoutBody(p)
		default:
			next = slices.Insert(next, i, withoutBody(p))
		}
	}
	c.fleet = next
	return next, nil
}

// forgetFleet makes the next Fleet read the whole fleet; under fleetMu.
func (c *PostureCache) forgetFleet() {
	c.mu.Lock()
	c.writtenMany = true
	c.mu.Unlock()
}

// withoutBody is p as store.Postures returns it: the latest report's body
// and hash are left for evaluation to read when its verdicts are not
// cached, so that the fleet in memory stays small.
func withoutBody(p store.Posture) store.Posture {
	if p.Latest != nil {
		l := *p.Latest
		l.Body, l.Hash = nil, ""
		p.Latest = &l
	}
	return p
}

// Len returns how many lookups are cached.
func (c *PostureCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
