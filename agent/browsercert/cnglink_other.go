//go:build !windows

package browsercert

import "github.com/postern-dev/postern/checks/consoleuser"

// linkCNG exists on Windows only (cnglink_windows.go).
func linkCNG(consoleuser.User, Identity, string) error { return ErrKeyNotExportable }

// unlinkCNG exists on Windows only.
func unlinkCNG(consoleuser.User, string) error { return nil }
