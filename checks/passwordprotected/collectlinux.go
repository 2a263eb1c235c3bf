package passwordprotected

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	passwdPath    = "/etc/passwd"
	shadowPath    = "/etc/shadow"
	loginDefsPath = "/etc/login.defs"
	// displayManagerUnit is systemd's alias for the enabled display manager.
	displayManagerUnit = "/etc/systemd/system/display-manager.service"
	// defaultDMPath is Debian's record of the chosen display manager.
	defaultDMPath = "/etc/X11/default-display-manager"
)

// dmConfig is one display manager's configuration files, in the order
// the display manager reads them (a later file wins).
type dmConfig struct {
	name  string
	files []string // paths or glob patterns
	// section accepts the sections holding the autologin key.
	section func(string) bool
	// user returns the account signed in automatically, if any.
	user func(vals []iniValue, section func(string) bool) (string, bool)
}

var displayManagers = []dmConfig{
	{
		name: "gdm",
		// Debian's gdm3 reads daemon.conf, Ubuntu's custom.conf; Fedora's gdm custom.conf.
		files:   []string{"/etc/gdm3/daemon.conf", "/etc/gdm3/custom.conf", "/etc/gdm/custom.conf"},
		section: func(s string) bool { return strings.EqualFold(s, "daemon") },
		user: func(vals []iniValue, sec func(string) bool) (string, bool) {
			for _, pair := range [][2]string{{"AutomaticLoginEnable", "AutomaticLogin"}, {"TimedLoginEnable", "TimedLogin"}} {
				if on, _ := iniLookup(vals, sec, pair[0]); iniTrue(on) {
					u, _ := iniLookup(vals, sec, pair[1])
					return u, true
				}
			}
			return "", false
		},
	},
	{
		name:  "lightdm",
		files: []string{"/usr/share/lightdm/lightdm.conf.d/*.conf", "/etc/lightdm/lightdm.conf.d/*.conf", "/etc/lightdm/lightdm.conf"},
		section: func(s string) bool {
			return s == "Seat:*" || s == "SeatDefaults" || strings.HasPrefix(s, "Seat:seat")
		},
		user: func(vals []iniValue, sec func(string) bool) (string, bool) {
			if u, _ := iniLookup(vals, sec, "autologin-user"); u != "" {
				return u, true
			}
			if g, _ := iniLookup(vals, sec, "autologin-guest"); iniTrue(g) {
				return "guest", true
			}
			return "", false
		},
	},
	{
		name:    "sddm",
		files:   []string{"/usr/lib/sddm/sddm.conf.d/*.conf", "/etc/sddm.conf.d/*.conf", "/etc/sddm.conf"},
		section: func(s string) bool { return s == "Autologin" },
		user: func(vals []iniValue, sec func(string) bool) (string, bool) {
			u, _ := iniLookup(vals, sec, "User")
			return u, u != ""
		},
	},
}

var gettyDropIns = []string{
	"/etc/systemd/system/getty@*.service.d/*.conf",
	"/etc/systemd/system/serial-getty@*.service.d/*.conf",
}

// pamAuthFiles hold the auth stack where nullok allows an empty password.
var pamAuthFiles = []string{"/etc/pam.d/common-auth", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"}

func collectLinux(_ context.Context, h host.Host) (*Facts, error) {
	f := &Facts{AutoLogins: []AutoLogin{}, AutoLoginSources: []string{}, Accounts: []Account{}}
	if err := linuxAccounts(h, f); err != nil {
		return nil, err
	}
	active := activeDisplayManager(h)
	if active != "" {
		f.Notes = append(f.Notes, "the display manager started at boot is "+active)
	}
	for _, dm := range displayManagers {
		linuxDisplayManager(h, f, dm, active)
	}
	linuxGetty(h, f)
	linuxNullok(h, f)
	return f, nil
}

// linuxAccounts reads /etc/passwd and /etc/shadow; a missing passwd is an
// error (no accounts can be judged), an unreadable shadow is unreadable.
func linuxAccounts(h host.Host, f *Facts) error {
	pw, err := h.ReadFile(passwdPath)
	if err != nil {
		return fmt.Errorf("read the accounts: %w", err)
	}
	// login.defs sets which UIDs are people's; without it the shadow
	// defaults apply, but one that cannot be read may set others.
	defs, err := h.ReadFile(loginDefsPath)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s (it says which UIDs are people's accounts): %v", loginDefsPath, err))
	}
	lo, hi := uidRange(loginDefs(defs))
	sh, shErr := h.ReadFile(shadowPath)
	switch {
	case shErr == nil:
		f.AccountsSource = fmt.Sprintf("%s, %s (UID %d-%d and root, with a login shell)", passwdPath, shadowPath, lo, hi)
	case errors.Is(shErr, host.ErrPermission):
		f.Unreadable = append(f.Unreadable, "reading "+shadowPath+" needs root (the agent is not running as root)")
	case errors.Is(shErr, host.ErrNotFound):
		f.AccountsSource = fmt.Sprintf("%s (no %s)", passwdPath, shadowPath)
	default:
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s: %v", shadowPath, shErr))
	}
	shadow := parseShadow(sh)
	for _, e := range parsePasswd(pw) {
		if !interactiveShell(e.shell) {
			continue
		}
		system := e.uid != 0 && (e.uid < lo || e.uid > hi)
		a := Account{Name: e.name, ID: strconv.Itoa(e.uid)}
		switch {
		case e.pwd == "":
			// An empty passwd field means no password, whatever shadow says.
			a.Password, a.Source = PasswordNone, passwdPath+" (empty password field)"
		case e.pwd != "x":
			a.Password, a.Source = passwordState(e.pwd), passwdPath+" (password field)"
		case shErr != nil:
			if system {
				continue
			}
			a.Password, a.Source = PasswordUnknown, shadowPath+" unreadable"
		default:
			s, ok := shadow[e.name]
			if !ok {
				a.Password, a.Source = PasswordLocked, shadowPath+" (no entry: pam_unix refuses the account)"
				break
			}
			a.Password, a.Source, a.ExpiresDay = s.state, shadowPath, s.expires
		}
		// System accounts are only reported when they are an open door.
		if system && a.Password != PasswordNone {
			continue
		}
		f.addAccount(a)
	}
	return nil
}

// activeDisplayManager names the display manager systemd (or Debian's
// default-display-manager) starts, "" when unknown.
func activeDisplayManager(h host.Host) string {
	target := ""
	if fi, err := h.Stat(displayManagerUnit); err == nil && fi.Link != "" {
		target = path.Base(fi.Link)
	} else if b, err := h.ReadFile(defaultDMPath); err == nil {
		target = path.Base(strings.TrimSpace(string(b)))
	}
	for _, dm := range []string{"gdm", "lightdm", "sddm"} {
		if strings.HasPrefix(target, dm) {
			return dm
		}
	}
	if target != "" {
		return strings.TrimSuffix(target, ".service")
	}
	return ""
}

func linuxDisplayManager(h host.Host, f *Facts, dm dmConfig, active string) {
	var vals []iniValue
	var read []string
	for _, p := range dm.files {
		for _, file := range expand(h, f, p) {
			b, err := h.ReadFile(file)
			switch {
			case err == nil:
				vals = append(vals, parseINI(b)...)
				read = append(read, file)
			case errors.Is(err, host.ErrNotFound):
			default:
				f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s: %v", file, err))
			}
		}
	}
	if len(read) == 0 {
		return
	}
	f.AutoLoginSources = append(f.AutoLoginSources, read...)
	if user, on := dm.user(vals, dm.section); on {
		f.AutoLogins = append(f.AutoLogins, AutoLogin{
			Mechanism: dm.name, User: user, Source: strings.Join(read, ", "),
			Inactive: active != "" && active != dm.name,
		})
	}
}

func linuxGetty(h host.Host, f *Facts) {
	for _, p := range gettyDropIns {
		for _, file := range expand(h, f, p) {
			b, err := h.ReadFile(file)
			if err != nil {
				if !errors.Is(err, host.ErrNotFound) {
					f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s: %v", file, err))
				}
				continue
			}
			f.AutoLoginSources = append(f.AutoLoginSources, file)
			if user, on := gettyAutologinUser(b); on {
				f.AutoLogins = append(f.AutoLogins, AutoLogin{Mechanism: "getty", User: user, Source: file})
			}
		}
	}
}

// linuxNullok notes pam_unix's nullok: it lets an account whose password
// field is empty sign in, which only matters if such an account exists.
func linuxNullok(h host.Host, f *Facts) {
	for _, file := range pamAuthFiles {
		b, err := h.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 || fields[0] != "auth" {
				continue
			}
			mod := -1
			for i, fl := range fields {
				if strings.HasSuffix(fl, ".so") || strings.Contains(fl, ".so ") {
					mod = i
					break
				}
			}
			if mod < 0 || !strings.HasPrefix(path.Base(fields[mod]), "pam_unix") {
				continue
			}
			for _, a := range fields[mod+1:] {
				if a == "nullok" || a == "nullok_secure" {
					f.WeakEvidence = append(f.WeakEvidence, file+": pam_unix "+a+" lets an account with an empty password field sign in")
					break
				}
			}
		}
	}
}

// expand globs pattern (a plain path is returned as is); errors other
// than not-found are recorded as unreadable.
func expand(h host.Host, f *Facts, pattern string) []string {
	if !strings.ContainsAny(pattern, "*?[") {
		return []string{pattern}
	}
	m, err := h.Glob(pattern)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("list %s: %v", pattern, err))
	}
	return m
}
