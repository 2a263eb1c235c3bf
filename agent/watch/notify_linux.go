package watch

import (
	"context"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// netlinkGroups are the rtnetlink multicast groups that say the network
// changed: links, IPv4/IPv6 addresses and routes.
const netlinkGroups = unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR |
	unix.RTMGRP_IPV4_ROUTE | unix.RTMGRP_IPV6_ROUTE

// notify subscribes to rtnetlink and signals wake on every link, address
// or route message until ctx ends.
func notify(ctx context.Context, wake chan<- struct{}) (func(), error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: netlinkGroups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return readSocket(ctx, fd, 1<<16, func(b []byte) {
		if relevant(b) {
			signal(wake)
		}
	}, func() { signal(wake) }) // ENOBUFS: messages were lost, which is itself news
}

// relevant reports whether a datagram holds a link, address or route
// message.
func relevant(b []byte) bool {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil || len(msgs) == 0 {
		// Nothing polls behind the notifications: what cannot be read
		// counts as a change.
		return true
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.RTM_NEWLINK, unix.RTM_DELLINK, unix.RTM_NEWADDR, unix.RTM_DELADDR, unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
			return true
		}
	}
	return false
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
