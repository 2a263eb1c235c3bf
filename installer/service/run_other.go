//go:build !windows

package service

import (
	"context"
	"errors"
)

// errMarkedForDelete exists on Windows only.
var errMarkedForDelete = errors.New("service marked for deletion")

// runWindows is never reached off Windows (Run checks the OS first).
func runWindows(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

// updateInPlace is Windows only: elsewhere the service is replaced (its
// unit or plist file is rewritten).
func updateInPlace(Spec) (bool, error) { return false, nil }

// processExitWaiter is Windows only: systemctl stop and launchctl return
// once the process has ended.
var processExitWaiter func() func()
