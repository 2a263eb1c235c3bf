package watch

import (
	"context"
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
	return readSocket(ctx, fd, 1<<14, func([]byte) { signal(wake) }, func() { signal(wake) })
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
