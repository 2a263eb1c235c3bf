package watch

import (
	"context"
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func nlmsg(typ uint16) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(b[0:4], unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint16(b[4:6], typ)
	return b
}

func TestRelevant(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want bool
	}{
		{"a new address is news", nlmsg(unix.RTM_NEWADDR), true},
		{"a deleted route is news", nlmsg(unix.RTM_DELROUTE), true},
		{"a neighbour update is not", nlmsg(unix.RTM_NEWNEIGH), false},
		{"a truncated datagram counts as a change, since nothing polls", []byte{1, 2, 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relevant(tt.msg); got != tt.want {
				t.Errorf("relevant = %v", got)
			}
		})
	}
}

func TestNotifySubscribesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stop, err := notify(ctx, make(chan struct{}, 1))
	if err != nil {
		t.Skipf("no netlink here: %v", err)
	}
	cancel()
	stop()
}
