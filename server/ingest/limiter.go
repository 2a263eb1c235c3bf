package ingest

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterEntries bounds the limiter's memory; past it, addresses whose
// allowance has fully recovered are forgotten.
const maxLimiterEntries = 100_000

// failLimiter counts failed enrollments per source: each source may fail
// burst times, then once per tick.
type failLimiter struct {
	every time.Duration
	burst int

	mu sync.Mutex
	m  map[netip.Prefix]*rate.Limiter
}

func newFailLimiter(burst int, every time.Duration) *failLimiter {
	return &failLimiter{every: every, burst: burst, m: map[netip.Prefix]*rate.Limiter{}}
}

// blocked reports whether the source has no failures left.
func (l *failLimiter) blocked(src netip.Prefix, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[src]
	return ok && lim.TokensAt(now) < 1
}

// fail records a failed enrollment from the source.
func (l *failLimiter) fail(src netip.Prefix, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[src]
	if !ok {
		if len(l.m) >= maxLimiterEntries {
			l.sweep(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[src] = lim
	}
	lim.AllowN(now, 1)
}

func (l *failLimiter) sweep(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
	if len(l.m) >= maxLimiterEntries {
		// Still full of active offenders: start over rather than grow.
		clear(l.m)
	}
}
