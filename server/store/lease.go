package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// ErrLeaseHeld is TryLease's answer when another process holds the lease.
var ErrLeaseHeld = errors.New("lease held by another server")

// Lease is a role held by one server process at a time (TryLease).
type Lease interface {
	// Lost is closed when the lease ends: released, or, on PostgreSQL,
	// its database session failed, after which another server may take
	// it. The holder must stop acting on the role.
	Lost() <-chan struct{}
	// Release gives the lease up; it is safe to call more than once.
	Release()
}

// leaseCheckEvery is how often a PostgreSQL lease checks its session.
const leaseCheckEvery = 2 * time.Second

// TryLease takes the named lease. On PostgreSQL it is a session advisory
// lock held on a connection of its own, taken from the pool for as long
// as the lease lasts; the lock ends with the session, so a crashed holder
// frees it. On SQLite, which one server uses, it is held in memory.
func (s *sqlStore) TryLease(ctx context.Context, name string) (Lease, error) {
	if !s.postgres() {
		return s.memLease(name)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take lease %s: %w", name, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaseKey(name)).Scan(&got); err != nil {
		discard(conn)
		return nil, fmt.Errorf("take lease %s: %w", name, err)
	}
	if !got {
		conn.Close()
		return nil, ErrLeaseHeld
	}
	l := &pgLease{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// leaseKey maps a lease name to an advisory lock key, apart from the
// migration lock's.
func leaseKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("postern-lease:" + name))
	return int64(h.Sum64())
}

// discard closes conn's session instead of returning it to the pool, so
// that no advisory lock it holds outlives the lease.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

type pgLease struct {
	conn       *sql.Conn
	lost, stop chan struct{}
	done       chan struct{}
	once       sync.Once
}

func (l *pgLease) Lost() <-chan struct{} { return l.lost }

func (l *pgLease) Release() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// watch pings the session until it fails or the lease is released; either
// way the session is closed, which frees the lock.
func (l *pgLease) watch() {
	defer close(l.done)
	defer close(l.lost)
	defer discard(l.conn)
	t := time.NewTicker(leaseCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			// Unlock first: the server notices a closed session a little
			// later, and a successor should not have to wait for it.
			ctx, cancel := context.WithTimeout(context.Background(), leaseCheckEvery)
			l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`)
			cancel()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), leaseCheckEvery)
		err := l.conn.PingContext(ctx)
		cancel()
		if err != nil {
			return
		}
	}
}

// memLease is TryLease on SQLite: exclusive within this store.
func (s *sqlStore) memLease(name string) (Lease, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if s.leases == nil {
		s.leases = map[string]bool{}
	}
	if s.leases[name] {
		return nil, ErrLeaseHeld
	}
	s.leases[name] = true
	l := &memLease{lost: make(chan struct{})}
	l.release = func() {
		s.leaseMu.Lock()
		delete(s.leases, name)
		s.leaseMu.Unlock()
		close(l.lost)
	}
	return l, nil
}

type memLease struct {
	lost    chan struct{}
	once    sync.Once
	release func()
}

func (l *memLease) Lost() <-chan struct{} { return l.lost }
func (l *memLease) Release()              { l.once.Do(l.release) }
