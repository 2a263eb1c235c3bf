package consoleuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Where systemd-logind (and elogind) publish their state.
const (
	seat0Path    = "/run/systemd/seats/seat0"
	sessionsDir  = "/run/systemd/sessions"
	passwdPath   = "/etc/passwd"
	getentPath   = "/usr/bin/getent"
	loginctlPath = "/usr/bin/loginctl"
)

// session is the part of a logind session that matters here.
type session struct {
	id, uid, user, typ, class, desktop, seat string
	active, remote                           bool
}

func sessionFrom(id string, kv map[string]string) session {
	s := session{
		id: id, uid: kv["UID"], user: kv["USER"], typ: strings.ToLower(kv["TYPE"]),
		class: kv["CLASS"], desktop: kv["DESKTOP"], seat: kv["SEAT"],
		active: kv["ACTIVE"] == "1" || kv["STATE"] == "active" || kv["Active"] == "yes",
		remote: kv["REMOTE"] == "1" || kv["Remote"] == "yes",
	}
	// `loginctl show-session` spells the properties differently.
	for k, dst := range map[string]*string{"Name": &s.user, "Type": &s.typ, "Class": &s.class, "Desktop": &s.desktop, "Seat": &s.seat, "User": &s.uid} {
		if v, ok := kv[k]; ok && *dst == "" {
			*dst = v
		}
	}
	s.typ = strings.ToLower(s.typ)
	return s
}

// local reports whether s is a user's session at the machine itself. The
// uid must be a number: it is looked up in passwd and given to getent,
// which would take a name for a user name.
func (s session) local() bool {
	return !s.remote && (s.class == "" || s.class == "user") && isUID(s.uid) && s.uid != "0"
}

func isUID(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func findLinux(ctx context.Context, h host.Host) (User, error) {
	s, src, err := linuxSession(ctx, h)
	if err != nil {
		return User{}, err
	}
	u := User{ID: s.uid, Name: s.user, Session: s.id, SessionType: s.typ, Desktop: s.desktop, Source: src}
	if err := fillPasswd(ctx, h, &u); err != nil {
		return u, err
	}
	return u, nil
}

// linuxSession picks the active session of seat0, else any local session
// on a seat (active first, graphical first), from logind's state files;
// without them it asks loginctl.
func linuxSession(ctx context.Context, h host.Host) (session, string, error) {
	if b, err := h.ReadFile(seat0Path); err == nil {
		if id := parseKeyValue(b)["ACTIVE"]; id != "" && validName(id) {
			if sb, err := h.ReadFile(path.Join(sessionsDir, id)); err == nil {
				if s := sessionFrom(id, parseKeyValue(sb)); s.local() {
					return s, seat0Path + ", " + path.Join(sessionsDir, id), nil
				}
			}
		}
	}
	names, err := h.ReadDir(sessionsDir)
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return loginctlSession(ctx, h)
		}
		return session{}, "", fmt.Errorf("list logind sessions: %w", err)
	}
	var found []session
	var unread []string
	for _, n := range names {
		if strings.Contains(n, ".") || !validName(n) { // "N.ref" are FIFOs
			continue
		}
		b, err := h.ReadFile(path.Join(sessionsDir, n))
		if err != nil {
			// A session that ended since the listing is gone; any other
			// error hides a session that may be the console's.
			if !errors.Is(err, host.ErrNotFound) {
				unread = append(unread, fmt.Sprintf("%s: %v", n, err))
			}
			continue
		}
		if s := sessionFrom(n, parseKeyValue(b)); s.local() && s.seat != "" {
			found = append(found, s)
		}
	}
	if s, err := pick(found, unread, sessionsDir); s.id != "" || err != nil {
		return s, sessionsDir, err
	}
	return session{}, "", fmt.Errorf("%w: logind has no local session on a seat (%d session(s) in %s, none at the console)", ErrNoConsoleUser, len(names), sessionsDir)
}

// pick is best(found) when no session went unread or the best is an
// active graphical one, which no other session could outrank; otherwise a
// session that could not be read may be the console's, and that is an
// error rather than "nobody at the console". It returns the zero session
// and no error when nothing was found and nothing went unread.
func pick(found []session, unread []string, from string) (session, error) {
	s, ok := best(found)
	if ok && (len(unread) == 0 || s.active && (User{SessionType: s.typ}).Graphical()) {
		return s, nil
	}
	if len(unread) > 0 {
		return session{}, fmt.Errorf("read logind sessions (%s): %s", from, strings.Join(unread, "; "))
	}
	return session{}, nil
}

// best prefers an active session, then a graphical one.
func best(ss []session) (session, bool) {
	score := func(s session) int {
		n := 0
		if s.active {
			n += 2
		}
		if (User{SessionType: s.typ}).Graphical() {
			n++
		}
		return n
	}
	var out session
	ok := false
	for _, s := range ss {
		if !ok || score(s) > score(out) {
			out, ok = s, true
		}
	}
	return out, ok
}

// loginctlSession is the fallback when logind's state directory cannot be
// read: `loginctl list-sessions --json=short` (systemd >= 250), then
// `loginctl show-session` for the properties of each session on a seat.
func loginctlSession(ctx context.Context, h host.Host) (session, string, error) {
	rows, err := listSessions(ctx, h)
	if err != nil {
		return session{}, "", err
	}
	var found []session
	var unread []string
	for _, r := range rows {
		if r.Seat == "" || !validName(r.Session) {
			continue
		}
		b, err := run(ctx, h, loginctlPath, "show-session", r.Session, "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class", "-p", "Active", "-p", "Remote", "-p", "Desktop", "-p", "Seat")
		if err != nil {
			unread = append(unread, fmt.Sprintf("%s: %v", r.Session, err))
			continue
		}
		if s := sessionFrom(r.Session, parseKeyValue(b)); s.local() && s.seat != "" {
			found = append(found, s)
		}
	}
	if s, err := pick(found, unread, "loginctl show-session"); s.id != "" || err != nil {
		return s, "loginctl", err
	}
	return session{}, "", fmt.Errorf("%w: loginctl lists no local session on a seat", ErrNoConsoleUser)
}

// sessionRow is one session of `loginctl list-sessions`.
type sessionRow struct {
	Session string `json:"session"`
	Seat    string `json:"seat"`
}

// seatUnlisted stands for a seat the plain listing does not give
// reliably (an empty column shifts the others): show-session says.
const seatUnlisted = "?"

// listSessions lists logind's sessions: as JSON where loginctl has
// --json (systemd 253 and later), else from the plain listing, whose
// first column is the session (systemd 252, Debian 12, refuses --json).
func listSessions(ctx context.Context, h host.Host) ([]sessionRow, error) {
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	o, err := h.Run(cctx, loginctlPath, "list-sessions", "--no-legend", "--json=short")
	switch {
	case errors.Is(err, host.ErrNotFound):
		// Without logind nothing says who is at the console: that is not
		// the same as knowing nobody is.
		return nil, fmt.Errorf("find the console user: neither %s nor %s exists (no systemd-logind or elogind)", sessionsDir, loginctlPath)
	case err != nil:
		return nil, fmt.Errorf("run loginctl: %w", err)
	case o.ExitCode != 0 && strings.Contains(string(o.Stderr), "--json"):
		out, err := run(ctx, h, loginctlPath, "list-sessions", "--no-legend")
		if err != nil {
			return nil, err
		}
		var rows []sessionRow
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				rows = append(rows, sessionRow{Session: f[0], Seat: seatUnlisted})
			}
		}
		return rows, nil
	case o.ExitCode != 0:
		return nil, fmt.Errorf("loginctl exited %d: %s", o.ExitCode, clip(strings.TrimSpace(string(o.Stderr)), 200))
	}
	var rows []sessionRow
	if err := json.Unmarshal(o.Stdout, &rows); err != nil {
		return nil, fmt.Errorf("decode loginctl list-sessions: %w", err)
	}
	return rows, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// fillPasswd completes u's name and home from the password database.
func fillPasswd(ctx context.Context, h host.Host, u *User) error {
	if b, err := h.ReadFile(passwdPath); err == nil {
		if e, ok := lookupPasswd(b, u.ID); ok {
			u.Name, u.Home = e.name, e.home
			return nil
		}
	}
	// Directory users (LDAP, sssd) are only in NSS.
	out, err := run(ctx, h, getentPath, "passwd", u.ID)
	if err != nil {
		return fmt.Errorf("look up uid %s: %w", u.ID, err)
	}
	e, ok := lookupPasswd(out, u.ID)
	if !ok {
		return fmt.Errorf("look up uid %s: not in %s nor in getent passwd", u.ID, passwdPath)
	}
	u.Name, u.Home = e.name, e.home
	return nil
}

// run runs a command with the default timeout and returns its stdout,
// treating a non-zero exit as an error that quotes stderr.
func run(ctx context.Context, h host.Host, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, name, args...)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", path.Base(name), err)
	}
	if out.ExitCode != 0 {
		msg := strings.TrimSpace(string(out.Stderr))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return nil, fmt.Errorf("%s exited %d: %s", path.Base(name), out.ExitCode, msg)
	}
	return out.Stdout, nil
}
