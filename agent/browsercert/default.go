package browsercert

import (
	"context"
	"os"
	"strconv"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// Default returns the manager for this machine's OS (goos), or nil where
// Postern places no certificate.
func Default(goos, stateDir string, run allowcmd.Runner, consoleUser func(context.Context) (consoleuser.User, error)) *Manager {
	m := &Manager{ConsoleUser: consoleUser, StateDir: stateDir}
	switch goos {
	case "linux":
		m.Store, m.Policies = NSS{Run: run, SelfUID: strconv.Itoa(os.Getuid()), Module: PKCS11Module}, osPolicies()
	case "darwin":
		m.Store, m.Policies = Keychain{Run: run}, PlistPolicies{Path: FirefoxPlistFile}
	case "windows":
		m.Store, m.Policies = UserStore{Run: run}, osPolicies()
	default:
		return nil
	}
	return m
}
