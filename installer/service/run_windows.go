//go:build windows

package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
)

// errMarkedForDelete is a service that is still being deleted.
var errMarkedForDelete error = windows.ERROR_SERVICE_MARKED_FOR_DELETE

// runWindows connects to the service control manager and runs fn until
// it asks the service to stop. It is called only for `run --service`,
// which only the service manager starts, so it does not guess whether it
// is a service: x/sys's IsWindowsService (which kardianos uses) looks for
// a session-0 services.exe parent, which Wine's service manager is not,
// and a service that never connects is left "start pending" and killed
// (Wine: ERROR_SERVICE_REQUEST_TIMEOUT, then exit code 1077). Run from a
// console by hand, the connection fails and fn simply runs.
func runWindows(ctx context.Context, fn func(context.Context) error) error {
	p := &program{parent: ctx, fn: fn}
	err := svc.Run(Name, &handler{p: p})
	if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		return fn(ctx)
	}
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	return p.result()
}

// handler answers the service control manager.
type handler struct{ p *program }

func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	_ = h.p.Start(nil)
	h.p.mu.Lock()
	done := h.p.done
	h.p.mu.Unlock()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case <-done:
			// The run loop ended by itself (its context ended).
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(stopTimeout / time.Millisecond)}
				if err := h.p.Stop(nil); err != nil {
					return true, 1
				}
				return false, 0
			}
		}
	}
}
