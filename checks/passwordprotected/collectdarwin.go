package passwordprotected

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

const (
	loginwindowPlist = "/Library/Preferences/com.apple.loginwindow.plist"
	kcpasswordPath   = "/etc/kcpassword"
	dslocalUsers     = "/var/db/dslocal/nodes/Default/users/*.plist"
	// macFirstUserUID: macOS gives people UIDs from 501; 500 is kept for
	// accounts migrated from older systems.
	macFirstUserUID = 500
)

func collectDarwin(_ context.Context, h host.Host) (*Facts, error) {
	f := &Facts{AutoLogins: []AutoLogin{}, AutoLoginSources: []string{loginwindowPlist, kcpasswordPath}, Accounts: []Account{}}
	macAutoLogin(h, f)
	files, err := h.Glob(dslocalUsers)
	switch {
	case errors.Is(err, host.ErrPermission):
		f.Unreadable = append(f.Unreadable, "reading the local accounts in /var/db/dslocal needs root (the agent is not running as root)")
		return f, nil
	case err != nil && !errors.Is(err, host.ErrNotFound):
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("list the local accounts: %v", err))
		return f, nil
	case len(files) == 0:
		f.Unreadable = append(f.Unreadable, "no local account records found in /var/db/dslocal (is the agent running as root?)")
		return f, nil
	}
	f.AccountsSource = "/var/db/dslocal/nodes/Default/users/*.plist (UID 0 and >= 500, with a login shell)"
	for _, file := range files {
		b, err := h.ReadFile(file)
		if err != nil {
			f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s: %v", file, err))
			continue
		}
		u, err := parseDSLocalUser(b)
		if err != nil {
			f.Unreadable = append(f.Unreadable, fmt.Sprintf("decode %s: %v", file, err))
			continue
		}
		uid, err := strconv.Atoi(first(u.UID))
		if err != nil || (uid != 0 && uid < macFirstUserUID) || !interactiveShell(first(u.Shell)) {
			continue
		}
		state, disabled, src, err := macPasswordState(u)
		if err != nil {
			f.Unreadable = append(f.Unreadable, path.Base(file)+": "+err.Error())
		}
		f.addAccount(Account{Name: first(u.Name), ID: strconv.Itoa(uid), Password: state, Disabled: disabled, Source: src})
	}
	return f, nil
}

// macAutoLogin reads loginwindow's autoLoginUser and whether kcpassword
// (the obfuscated auto-login password) exists.
func macAutoLogin(h host.Host, f *Facts) {
	b, err := h.ReadFile(loginwindowPlist)
	switch {
	case err == nil:
		var lw struct {
			AutoLoginUser string `plist:"autoLoginUser"`
		}
		if _, err := plistval.Unmarshal(b, &lw); err != nil {
			f.Unreadable = append(f.Unreadable, fmt.Sprintf("decode %s: %v", loginwindowPlist, err))
		} else if lw.AutoLoginUser != "" {
			f.AutoLogins = append(f.AutoLogins, AutoLogin{Mechanism: "loginwindow", User: lw.AutoLoginUser, Source: loginwindowPlist + " autoLoginUser"})
		}
	case !errors.Is(err, host.ErrNotFound):
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s: %v", loginwindowPlist, err))
	}
	_, err = h.Stat(kcpasswordPath)
	switch {
	case err == nil:
		if len(f.AutoLogins) > 0 {
			f.AutoLogins[len(f.AutoLogins)-1].PasswordStored = true
		} else {
			f.AutoLogins = append(f.AutoLogins, AutoLogin{Mechanism: "kcpassword", Source: kcpasswordPath + " exists", PasswordStored: true})
		}
	case !errors.Is(err, host.ErrNotFound):
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("stat %s: %v", kcpasswordPath, err))
	}
}
