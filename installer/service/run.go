package service

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"time"

	kservice "github.com/kardianos/service"
)

// stopTimeout bounds how long a stop request waits for the run loop.
const stopTimeout = 20 * time.Second

// Run runs fn as the service's main loop until ctx ends or the service
// manager stops it. On Linux and macOS, systemd and launchd stop a
// service with SIGTERM, which the caller's ctx already carries, so fn
// simply runs. A Windows service must answer the service control manager
// (runWindows); a run loop that fails there ends the process with the
// error, and the service's failure action restarts it.
func Run(ctx context.Context, fn func(context.Context) error) error {
	if runtime.GOOS != "windows" {
		return fn(ctx)
	}
	return runWindows(ctx, fn)
}

// program runs fn between the service manager's start and stop requests.
type program struct {
	parent context.Context
	fn     func(context.Context) error

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// exit ends the process; a variable for tests.
var exit = os.Exit

func (p *program) Start(kservice.Service) error {
	ctx, cancel := context.WithCancel(p.parent)
	p.mu.Lock()
	p.cancel, p.done = cancel, make(chan struct{})
	p.mu.Unlock()
	go func() {
		err := p.fn(ctx)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
		if err != nil && ctx.Err() == nil {
			// Ending without reporting "stopped" is a crash to the
			// service control manager, whose failure action restarts
			// the agent; the caller has logged the error.
			exit(2)
		}
	}()
	return nil
}

func (p *program) Stop(kservice.Service) error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
		return errors.New("run loop did not stop in time")
	}
}

func (p *program) result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
