package screenlock

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// Programs whose presence tells the desktop apart when logind did not
// record it.
const (
	gnomeShellPath = "/usr/bin/gnome-shell"
	plasmaPath     = "/usr/bin/plasmashell"
)

// Platforms on Linux.
const (
	platformGNOME = "gnome"
	platformKDE   = "kde"
	platformLinux = "linux"
)

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	u, err := consoleuser.Find(ctx, h)
	if errors.Is(err, consoleuser.ErrNoConsoleUser) {
		return &Facts{Platform: platformLinux, NotApplicable: "no graphical session, so no screen to lock: " + err.Error()}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find the console user: %w", err)
	}
	if !u.Graphical() {
		return &Facts{Platform: platformLinux, User: u.Name, NotApplicable: fmt.Sprintf(
			"no graphical session, so no screen to lock: %s's console session %s is of type %q", u.Name, u.Session, u.SessionType)}, nil
	}
	if u.Home == "" {
		return nil, fmt.Errorf("the home folder of console user %s is unknown, so their settings cannot be read", u.Name)
	}
	desktop, note := linuxDesktop(h, u)
	var f *Facts
	switch desktop {
	case platformGNOME:
		f = collectGNOME(h, u)
	case platformKDE:
		f = collectKDE(h, u)
	default:
		f = &Facts{Platform: desktop, Routes: []Route{{Name: "idle lock",
			Unknown: fmt.Sprintf("the screen locker of the %q desktop is not checked by this agent version (GNOME and KDE Plasma are)", desktop)}}}
	}
	f.User = u.Name
	if note != "" {
		f.Notes = append(f.Notes, note)
	}
	return f, nil
}

// linuxDesktop maps logind's DESKTOP (XDG_SESSION_DESKTOP) to a platform,
// or infers it from the installed shell when logind has none.
func linuxDesktop(h host.Host, u consoleuser.User) (desktop, note string) {
	d := strings.ToLower(u.Desktop)
	switch {
	case strings.Contains(d, "kde"), strings.Contains(d, "plasma"):
		return platformKDE, ""
	case strings.Contains(d, "gnome"), d == "ubuntu", d == "pop", d == "zorin", d == "unity":
		return platformGNOME, ""
	case d != "":
		return d, ""
	}
	_, gErr := h.Stat(gnomeShellPath)
	_, kErr := h.Stat(plasmaPath)
	switch {
	case gErr == nil && kErr != nil:
		return platformGNOME, "logind recorded no desktop for the session; GNOME inferred from " + gnomeShellPath
	case kErr == nil && gErr != nil:
		return platformKDE, "logind recorded no desktop for the session; KDE Plasma inferred from " + plasmaPath
	}
	return "unrecorded", ""
}

// readOptional reads a file that may legitimately be missing: it returns
// nil data and nil error when it does not exist.
func readOptional(h host.Host, path string) ([]byte, error) {
	b, err := h.ReadFile(path)
	if errors.Is(err, host.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// readErrorReason turns a read error into an unknown reason.
func readErrorReason(path string, err error) string {
	switch {
	case errors.Is(err, host.ErrPermission):
		return fmt.Sprintf("cannot read %s: permission denied (the agent is not running as root)", path)
	case errors.Is(err, host.ErrTooLarge):
		return fmt.Sprintf("cannot read %s: larger than %d bytes", path, host.MaxFileSize)
	}
	return fmt.Sprintf("cannot read %s: %v", path, err)
}
