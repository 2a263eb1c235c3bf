package watch

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// notify reads the PF_ROUTE socket, on which the kernel announces every
// route, address and interface change, and signals wake on each message.
func notify(ctx context.Context, wake chan<- struct{}) (func(), error) {
	fd, err := unix.Socket(unix.AF_ROUTE, unix.SOCK_RAW, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("route socket: %w", err)
	}
	unix.CloseOnExec(fd)
	tv := unix.NsecToTimeval(int64(settleDelay))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("route socket timeout: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		buf := make([]byte, 1<<14)
		for ctx.Err() == nil {
			n, err := unix.Read(fd, buf)
			if err != nil {
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					continue
				}
				return
			}
			if n > 0 {
				signal(wake)
			}
		}
	}()
	return func() { <-done }, nil
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
