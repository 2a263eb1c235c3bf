//go:build windows

package service

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"
)

// updateInPlace points an existing service at s (executable, arguments,
// automatic delayed start) with ChangeServiceConfig. Replacing a service
// by deleting and re-creating it waits for Windows to finish the deletion
// (the old process gone, every handle closed), which an upgrade inside
// msiexec can run into; an in-place update never deletes. It reports
// false when there is no such service.
func updateInPlace(s Spec) (bool, error) {
	m, err := mgr.Connect()
	if err != nil {
		return false, fmt.Errorf("service manager: %w", err)
	}
	defer m.Disconnect()
	svc, err := m.OpenService(Name)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open service: %w", err)
	}
	defer svc.Close()
	cfg, err := svc.Config()
	if deletionPending(err) {
		// Install's retries wait for the deletion to finish, then install
		// afresh.
		return false, fmt.Errorf("read service config: %w (%w)", errMarkedForDelete, err)
	}
	if err != nil {
		return false, fmt.Errorf("read service config: %w", err)
	}
	words := []string{syscall.EscapeArg(s.Executable)}
	for _, a := range s.Args() {
		words = append(words, syscall.EscapeArg(a))
	}
	cfg.BinaryPathName = strings.Join(words, " ")
	cfg.StartType = mgr.StartAutomatic
	cfg.DelayedAutoStart = true
	cfg.DisplayName, cfg.Description = DisplayName, Description
	if err := svc.UpdateConfig(cfg); err != nil {
		return false, fmt.Errorf("update service config: %w", err)
	}
	return true, nil
}
