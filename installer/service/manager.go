package service

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"time"

	kservice "github.com/kardianos/service"
)

// State is the service's state as the OS service manager reports it.
type State string

// States of the service.
const (
	StateRunning      State = "running"
	StateStopped      State = "stopped"
	StateNotInstalled State = "not installed"
	StateUnknown      State = "unknown"
)

// controller is the part of kardianos' Service the Manager uses; tests
// replace it.
type controller interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Status() (kservice.Status, error)
}

// Manager installs and controls the service on this machine.
type Manager struct {
	ctl controller
	// sleep waits between attempts; time.Sleep when nil.
	sleep func(time.Duration)
	// update changes an installed service's definition in place and
	// reports whether it could (Windows); nil or false replaces it.
	update func() (bool, error)
	// exitWaiter, called before a stop, returns what waits for the
	// service's process to end after it (Windows); nil waits for nothing.
	exitWaiter func() func()
}

// Retries of an install that meets a service still being deleted: Windows
// deletes a service only once its process has exited and every handle to
// it is closed, so an install right after an uninstall (an MDM's
// remove-then-install, an upgrade) meets "marked for deletion" or
// "already exists" for a moment.
// Wine 10 under load kept a deleted service "marked for deletion" for
// over 30 s after its process ended (make wine-test's major upgrade), so
// the wait is two minutes; on Windows it is a moment.
const (
	installAttempts = 120
	installPause    = time.Second
)

// Windows errors of a service still being deleted, as numbers so that
// the classification is tested on every OS: ERROR_SERVICE_MARKED_FOR_DELETE,
// and ERROR_INVALID_LEVEL, which Wine 10's QueryServiceConfig answers for
// a service deleted while its process still runs (seen in make wine-test:
// a major upgrade whose old product deleted the service right before the
// new one updated it; docs/wine.md).
const (
	errnoMarkedForDelete = syscall.Errno(1072)
	errnoInvalidLevel    = syscall.Errno(124)
	// A service between states (stop pending, being deleted) refuses a
	// stop with ERROR_INVALID_SERVICE_CONTROL or
	// ERROR_SERVICE_CANNOT_ACCEPT_CTRL; a moment later it can be asked.
	errnoInvalidControl   = syscall.Errno(1052)
	errnoCannotAcceptCtrl = syscall.Errno(1061)
)

// deletionPending reports whether err says the service is being deleted.
func deletionPending(err error) bool {
	return err != nil && (errors.Is(err, errnoMarkedForDelete) || errors.Is(err, errnoInvalidLevel))
}

// betweenStates reports whether err says the service cannot take a
// control right now.
func betweenStates(err error) bool {
	return errors.Is(err, errnoInvalidControl) || errors.Is(err, errnoCannotAcceptCtrl)
}

// transient reports whether err is a service still being deleted.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errMarkedForDelete) || deletionPending(err) || betweenStates(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "marked for deletion") || strings.Contains(msg, "already exists")
}

// noop satisfies kardianos' Interface for control operations, which never
// run the program.
type noop struct{}

func (noop) Start(kservice.Service) error { return nil }
func (noop) Stop(kservice.Service) error  { return nil }

// New returns a Manager for the service described by s on this OS.
func New(s Spec) (*Manager, error) {
	cfg, err := Config(s, runtime.GOOS)
	if err != nil {
		return nil, err
	}
	svc, err := kservice.New(noop{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return &Manager{ctl: svc, update: func() (bool, error) { return updateInPlace(s) }, exitWaiter: processExitWaiter}, nil
}

// Status returns the service's state. A manager that cannot be queried
// (no systemd in a container, no rights) gives StateUnknown and the error.
func (m *Manager) Status() (State, error) {
	st, err := m.ctl.Status()
	switch {
	case errors.Is(err, kservice.ErrNotInstalled):
		return StateNotInstalled, nil
	case err != nil:
		return StateUnknown, fmt.Errorf("service status: %w", err)
	case st == kservice.StatusRunning:
		return StateRunning, nil
	case st == kservice.StatusStopped:
		return StateStopped, nil
	}
	return StateUnknown, nil
}

// Install installs the service and starts it. An installed service is an
// upgrade: it is stopped and its definition replaced, so that a new
// binary path or unit takes effect. The state directory, and with it the
// device identity, is never touched.
func (m *Manager) Install() error {
	sleep := m.sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	var err error
	for range installAttempts {
		if err = m.install(); !transient(err) {
			return err
		}
		sleep(installPause)
	}
	return err
}

func (m *Manager) install() error {
	st, err := m.Status()
	if err != nil {
		return err
	}
	if st != StateNotInstalled {
		if st == StateRunning {
			if err := m.stop(); err != nil {
				return fmt.Errorf("stop the installed service: %w", err)
			}
		}
		if m.update != nil {
			updated, err := m.update()
			if err != nil {
				return err
			}
			if updated {
				if err := m.ctl.Start(); err != nil {
					return fmt.Errorf("start service: %w", err)
				}
				return nil
			}
		}
		if err := m.ctl.Uninstall(); err != nil {
			// The deletion under way may have finished in between:
			// then the service is simply installed afresh.
			if now, serr := m.Status(); serr != nil || now != StateNotInstalled {
				return fmt.Errorf("replace the installed service: %w", err)
			}
		}
	}
	if err := m.ctl.Install(); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	if err := m.ctl.Start(); err != nil {
		return fmt.Errorf("start service: %w", err)
	}
	return nil
}

// Uninstall stops and removes the service. Removing a service that is not
// installed is not an error, so that uninstall scripts can be rerun.
func (m *Manager) Uninstall() error {
	st, err := m.Status()
	if err != nil {
		return err
	}
	if st == StateNotInstalled {
		return nil
	}
	if st == StateRunning {
		if err := m.stop(); err != nil {
			return fmt.Errorf("stop service: %w", err)
		}
	}
	if err := m.ctl.Uninstall(); err != nil {
		return fmt.Errorf("uninstall service: %w", err)
	}
	return nil
}

// stop stops the running service and waits for its process to end. The
// service manager says "stopped" a moment before the process exits, and
// Windows deletes a service only once its process is gone: a delete in
// that moment leaves the service "marked for deletion", and the install
// that follows (a major upgrade, an MDM's remove-then-install) fails or
// waits. Under load Wine 10 showed it for over 30 s (docs/wine.md).
func (m *Manager) stop() error {
	wait := func() {}
	if m.exitWaiter != nil {
		wait = m.exitWaiter()
	}
	if err := m.ctl.Stop(); err != nil {
		return err
	}
	wait()
	return nil
}

// Start starts the installed service.
func (m *Manager) Start() error {
	if err := m.ctl.Start(); err != nil {
		return fmt.Errorf("start service: %w", err)
	}
	return nil
}

// Stop stops the service.
func (m *Manager) Stop() error {
	if err := m.ctl.Stop(); err != nil {
		return fmt.Errorf("stop service: %w", err)
	}
	return nil
}
