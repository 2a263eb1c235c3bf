package passwordprotected

import (
	"context"
	"fmt"

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
func Collect(ctx context.Context, h host.Host) (any, error) {
	switch h.GOOS() {
	case "linux":
		return collectLinux(ctx, h)
	case "windows":
		return collectWindows(ctx, h)
	case "darwin":
		return collectDarwin(ctx, h)
	}
	return nil, fmt.Errorf("password protection is not checked on %s", h.GOOS())
}

// addAccount appends a, keeping the list bounded.
func (f *Facts) addAccount(a Account) {
	if len(f.Accounts) >= maxAccounts {
		f.AccountsTruncated = true
		return
	}
	f.Accounts = append(f.Accounts, a)
}
