//go:build linux || darwin

package watch

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readSocket reads the notification socket fd until ctx ends, calling
// onMsg with each message and onLost when the kernel says messages were
// dropped. The socket is made non-blocking and handed to Go's poller, so
// an idle agent sleeps in epoll/kqueue instead of waking on a receive
// timeout to look at ctx; ctx's end closes it. It returns a function
// that waits for the reader to finish.
func readSocket(ctx context.Context, fd int, size int, onMsg func([]byte), onLost func()) (func(), error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("non-blocking notification socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "network-notifications")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("notification socket: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, size)
		for {
			var n int
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				n, rerr = unix.Read(int(fd), buf)
				return !errors.Is(rerr, unix.EAGAIN)
			})
			switch {
			case err != nil: // closed: ctx ended
				return
			case errors.Is(rerr, unix.ENOBUFS):
				onLost()
			case errors.Is(rerr, unix.EINTR):
			case rerr != nil:
				return
			case n > 0:
				onMsg(buf[:n])
			}
		}
	}()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		f.Close()
		close(stopped)
	}()
	return func() { <-done; <-stopped }, nil
}
