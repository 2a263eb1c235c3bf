package users

import (
	"sync"
	"time"
)

// DefaultLockFor is how long an account stays locked after LockAfter
// failures when Config.LockFor is unset.
const DefaultLockFor = 30 * time.Minute

// SourceFailures is how many failed sign-ins one source address may make
// within LockFor, over every account, before its attempts are refused
// unchecked. It is above LockAfter so that a person behind a shared
// address (a clinic's NAT) mistyping is not shut out at once.
const SourceFailures = 2 * LockAfter

// maxSources bounds the throttle's memory under a flood of addresses;
// past it the oldest entries go first.
const maxSources = 100_000

// sourceThrottle counts failed sign-ins per source address in a window.
// It lives in memory: a restart forgets it, the account locks (stored)
// do not.
type sourceThrottle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	seen   map[string][]time.Time
}

func newSourceThrottle(limit int, window time.Duration) *sourceThrottle {
	return &sourceThrottle{limit: limit, window: window, seen: map[string][]time.Time{}}
}

// recent drops failures older than the window; mu is held.
func (t *sourceThrottle) recent(source string, now time.Time) []time.Time {
	fs := t.seen[source]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-t.window)) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.seen, source)
	} else {
		t.seen[source] = fs
	}
	return fs
}

// allow reports whether source may try a password now.
func (t *sourceThrottle) allow(source string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(source, now)) < t.limit
}

// fail counts a failed sign-in from source.
func (t *sourceThrottle) fail(source string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.seen) >= maxSources {
		for k, fs := range t.seen {
			if len(t.recent(k, now)) == 0 || len(fs) < t.limit {
				delete(t.seen, k)
			}
		}
	}
	t.seen[source] = append(t.recent(source, now), now)
}
