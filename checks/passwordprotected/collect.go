package passwordprotected

import (
	"context"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func init() {
	checks.Register(checks.Control{
		ID:       checks.PasswordProtected,
		Collect:  Collect,
		Evaluate: Evaluate,
	})
}

// Collect gathers the sign-in facts of h, choosing the collector by the
// host's OS so that a snapshot from any OS can be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) { return collectors.Collect(ctx, h) }

var collectors = checks.PerOS[*Facts]{What: "password protection", Linux: collectLinux, Windows: collectWindows, Darwin: collectDarwin}

// addAccount appends a, keeping the list bounded. Once the list is full
// an account without a password still takes the place of one that has a
// password: dropping it would turn a failure into a pass.
func (f *Facts) addAccount(a Account) {
	if len(f.Accounts) < maxAccounts {
		f.Accounts = append(f.Accounts, a)
		return
	}
	f.AccountsTruncated = true
	if !openDoor(a) {
		return
	}
	for i, kept := range f.Accounts {
		if !openDoor(kept) {
			f.Accounts[i] = a
			return
		}
	}
}

// openDoor reports an account that may sign in without a password.
func openDoor(a Account) bool {
	return a.Password == PasswordNone || a.Password == PasswordNotRequired
}
