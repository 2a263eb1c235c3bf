package consoleuser

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// ErrNoConsoleUser means nobody is signed in at the console. The error
// Find returns wraps it with the precise reason.
var ErrNoConsoleUser = errors.New("no user is signed in at the console")

// User is the person signed in at the console and their session.
type User struct {
	// Name is the login name; on Windows it is DOMAIN\name.
	Name string `json:"name"`
	// ID is the numeric uid (Linux, macOS) or the SID (Windows).
	ID string `json:"id"`
	// Home is the user's home or profile folder; empty when it could not
	// be found.
	Home string `json:"home,omitempty"`
	// Session is the logind session ID (Linux only).
	Session string `json:"session,omitempty"`
	// SessionType is logind's session type on Linux ("x11", "wayland",
	// "mir", "tty", "unspecified"); "console" on Windows and macOS, where
	// the console is always graphical.
	SessionType string `json:"session_type,omitempty"`
	// Desktop is the session's desktop as logind recorded it from
	// XDG_SESSION_DESKTOP (e.g. "gnome", "KDE", "ubuntu"); empty when
	// unrecorded or on Windows and macOS.
	Desktop string `json:"desktop,omitempty"`
	// Source says where the user was found.
	Source string `json:"source"`
}

// Graphical reports whether the session has a graphical display (and so
// a screen that can lock).
func (u User) Graphical() bool {
	switch u.SessionType {
	case "x11", "wayland", "mir", "console":
		return true
	}
	return false
}

// Find returns the user signed in at h's console. Its error matches
// ErrNoConsoleUser when there is none, and otherwise says what could not
// be read (wrapping host's sentinels, e.g. host.ErrPermission).
func Find(ctx context.Context, h host.Host) (User, error) {
	switch h.GOOS() {
	case "linux":
		return findLinux(ctx, h)
	case "windows":
		return findWindows(ctx, h)
	case "darwin":
		return findDarwin(ctx, h)
	}
	return User{}, fmt.Errorf("find the console user: %s is not supported", h.GOOS())
}

// maxNameLen bounds a user name taken from the machine.
const maxNameLen = 256

// validName rejects names that could escape a path or an argument they
// are later put in.
func validName(name string) bool {
	if name == "" || len(name) > maxNameLen || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/\x00\n\r:*?\"<>|'")
}
