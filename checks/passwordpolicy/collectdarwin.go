package passwordpolicy

import (
	"context"
	"errors"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
)

const (
	pwpolicyPath = "/usr/bin/pwpolicy"
	managedPath  = "/Library/Managed Preferences/com.apple.mobiledevice.passwordpolicy.plist"
)

// collectDarwin reads the local account policies and lets a
// configuration profile's managed values win where it sets them.
func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Sources: []string{}}
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(cctx, pwpolicyPath, "-getaccountpolicies")
	if err != nil {
		return nil, fmt.Errorf("run pwpolicy: %w", err)
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("pwpolicy -getaccountpolicies exited %d: %s", out.ExitCode, firstLine(out.Stderr, out.Stdout))
	}
	local, err := parsePwpolicy(out.Stdout)
	if err != nil {
		return nil, err
	}
	f.Sources = append(f.Sources, "pwpolicy -getaccountpolicies")
	var managed macPolicy
	b, err := h.ReadFile(managedPath)
	switch {
	case err == nil:
		if managed, err = parseManagedPasscode(b); err != nil {
			return nil, err
		}
		f.Sources = append(f.Sources, managedPath)
	case errors.Is(err, host.ErrNotFound):
	default:
		return nil, fmt.Errorf("read the managed password policy: %w", err)
	}
	pick := func(m, l *int, mkey, lkey, none string) Setting {
		switch {
		case m != nil:
			return known(max(*m, 0), "configuration profile "+mkey)
		case l != nil:
			return known(max(*l, 0), "pwpolicy "+lkey)
		}
		return known(0, none)
	}
	f.MinLength = pick(managed.minLength, local.minLength, "minLength", "policyAttributePassword matches '.{N,}'", "no minimum length in the account policies")
	if managed.minLength == nil && local.emptyAllowed {
		f.MinLength.Detail = "the account policies accept an empty password (a '^$' alternative, macOS's default)"
	}
	f.MinClasses = pick(managed.classes, local.classes, "requireAlphanumeric, minComplexChars", "character-class content rules", "no character-class rule in the account policies")
	f.MaxAgeDays = pick(managed.maxAge, local.maxAge, "maxPINAgeInDays", "policyAttributeExpiresEveryNDays", "no expiry in the account policies")
	f.History = pick(managed.history, local.history, "pinHistory", "policyAttributePasswordHistoryDepth", "no history in the account policies")
	f.LockoutThreshold = pick(managed.lockout, local.lockout, "maxFailedAttempts", "policyAttributeMaximumFailedAuthentications", "no lockout in the account policies")
	return f, nil
}
