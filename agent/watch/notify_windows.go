package watch

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/windows"
)

// Windows allows few callbacks per process, so the one callback is made
// once and signals whichever channel is registered.
var (
	cbOnce     sync.Once
	cbAddr     uintptr
	cbMu       sync.Mutex
	cbChannels = map[chan<- struct{}]bool{}
)

func callback(_, _, _ uintptr) uintptr {
	cbMu.Lock()
	defer cbMu.Unlock()
	for ch := range cbChannels {
		signal(ch)
	}
	return 0
}

// notify registers for IP interface and unicast address changes, which
// cover joining a network, a new DHCP lease and VPN adapters.
func notify(ctx context.Context, wake chan<- struct{}) (func(), error) {
	cbOnce.Do(func() { cbAddr = windows.NewCallback(callback) })
	cbMu.Lock()
	cbChannels[wake] = true
	cbMu.Unlock()
	var ifHandle, addrHandle windows.Handle
	if err := windows.NotifyIpInterfaceChange(windows.AF_UNSPEC, cbAddr, nil, false, &ifHandle); err != nil {
		unregister(wake)
		return nil, fmt.Errorf("NotifyIpInterfaceChange: %w", err)
	}
	if err := windows.NotifyUnicastIpAddressChange(windows.AF_UNSPEC, cbAddr, nil, false, &addrHandle); err != nil {
		_ = windows.CancelMibChangeNotify2(ifHandle)
		unregister(wake)
		return nil, fmt.Errorf("NotifyUnicastIpAddressChange: %w", err)
	}
	return func() {
		_ = windows.CancelMibChangeNotify2(ifHandle)
		_ = windows.CancelMibChangeNotify2(addrHandle)
		unregister(wake)
	}, nil
}

func unregister(wake chan<- struct{}) {
	cbMu.Lock()
	delete(cbChannels, wake)
	cbMu.Unlock()
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
