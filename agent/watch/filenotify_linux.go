package watch

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// dirEvents are the inotify events on a directory that may change what
// one of its files reads or stats as: written, closed after writing,
// attributes, created, deleted, renamed in or out, and the directory
// itself deleted or moved.
const dirEvents = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_CREATE | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// fileNotifier watches directories with inotify and signals wake on every
// event in them (and when the kernel's event queue overflowed).
type fileNotifier struct {
	fd   int
	stop func()
	mu   sync.Mutex
	// dirs says, per directory asked for, whether it is watched.
	dirs map[string]bool
}

func newFileNotifier(ctx context.Context, wake chan<- struct{}) (*fileNotifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	n := &fileNotifier{fd: fd, dirs: map[string]bool{}}
	ctx, cancel := context.WithCancel(ctx)
	// Any event is news, including IN_Q_OVERFLOW (events were lost).
	stop, err := readSocket(ctx, fd, 64<<10, func([]byte) { signal(wake) }, func() { signal(wake) })
	if err != nil {
		cancel()
		return nil, fmt.Errorf("inotify: %w", err)
	}
	n.stop = func() { cancel(); stop() }
	return n, nil
}

// watch watches dir, once, and reports whether it is watched; added is
// true the first time it is. A directory that cannot be watched (it does
// not exist yet, or the watch limit is reached) is tried again next time.
func (n *fileNotifier) watch(dir string) (watched, added bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dirs[dir] {
		return true, false
	}
	if _, err := unix.InotifyAddWatch(n.fd, dir, dirEvents); err != nil {
		return false, false
	}
	n.dirs[dir] = true
	return true, true
}

// watching reports whether dir is watched.
func (n *fileNotifier) watching(dir string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dirs[dir]
}

// close stops watching and waits for the reader to end.
func (n *fileNotifier) close() { n.stop() }
