package screenlock

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// Where the session's environment is looked for: the processes of the
// user's logind session scope (cgroup v2, then the v1 systemd hierarchy).
const (
	cgroupV2Dir = "/sys/fs/cgroup/user.slice"
	cgroupV1Dir = "/sys/fs/cgroup/systemd/user.slice"
	// maxSessionProcs bounds how many of the session's processes are
	// looked at.
	maxSessionProcs = 64
	// maxConfigDirs bounds the XDG_CONFIG_DIRS entries read: the session's
	// environment is the user's to set.
	maxConfigDirs = 16
)

// kdeSessionProcs are the programs of a Plasma session whose environment
// is the session's (startplasma-* is started with it; the others inherit).
var kdeSessionProcs = map[string]bool{
	"startplasma-x11": true, "startplasma-wayland": true, "plasma_session": true,
	"ksmserver": true, "kwin_wayland": true, "kwin_x11": true, "plasmashell": true,
}

// kdeConfigDirs lists the directories KConfig reads kscreenlockerrc from,
// least specific first: XDG_CONFIG_DIRS from last to first (default
// /etc/xdg), then Plasma's ~/.config/kdedefaults (startplasma puts it in
// front of XDG_CONFIG_DIRS, so it outranks every system directory), then
// XDG_CONFIG_HOME (default ~/.config). The XDG variables are the
// session's own, read from a Plasma process of the user's session; when
// that cannot be read the defaults are used and a note says so.
func kdeConfigDirs(h host.Host, u consoleuser.User, f *Facts) (dirs []string, envWhy string) {
	env, src, envWhy := sessionEnv(h, u, kdeSessionProcs, []string{"XDG_CONFIG_DIRS", "XDG_CONFIG_HOME"})
	if src == "" {
		f.Notes = append(f.Notes, "the Plasma session's environment could not be read ("+envWhy+"), so KDE config directories are the XDG defaults (/etc/xdg, ~/.config)")
	}
	home := path.Join(u.Home, ".config")
	if v := env["XDG_CONFIG_HOME"]; path.IsAbs(v) {
		home = path.Clean(v)
	}
	kdedefaults := path.Join(home, "kdedefaults")
	system := []string{"/etc/xdg"}
	if v, ok := env["XDG_CONFIG_DIRS"]; ok && v != "" {
		system = nil
		for _, d := range strings.Split(v, ":") {
			if len(system) == maxConfigDirs {
				f.Notes = append(f.Notes, fmt.Sprintf("the session's XDG_CONFIG_DIRS lists more than %d directories; only the first %d were read", maxConfigDirs, maxConfigDirs))
				break
			}
			if path.IsAbs(d) && path.Clean(d) != kdedefaults {
				system = append(system, path.Clean(d))
			}
		}
	}
	if src != "" {
		f.Settings = append(f.Settings, Setting{Name: "XDG_CONFIG_DIRS", Value: strings.Join(system, ":"), Source: src},
			Setting{Name: "XDG_CONFIG_HOME", Value: home, Source: src})
	}
	for i := len(system) - 1; i >= 0; i-- {
		dirs = append(dirs, system[i])
	}
	return dedupe(append(dirs, kdedefaults, home)), envWhy
}

// sessionEnv returns the wanted variables of the environment one of
// procs (a desktop's session programs) in u's logind session started
// with, and where they came from; when no such process could be read,
// source is "" and why says what was missing. Only the wanted variables
// are kept: the rest of a session's environment is none of this check's
// business.
func sessionEnv(h host.Host, u consoleuser.User, procs map[string]bool, want []string) (env map[string]string, source, why string) {
	if !isDigits(u.ID) || !validDBName(u.Session) {
		return nil, "", "the console user has no logind session"
	}
	scope := path.Join("user-"+u.ID+".slice", "session-"+u.Session+".scope", "cgroup.procs")
	why = "no readable " + path.Join(cgroupV2Dir, scope) + " or v1 equivalent"
	for _, base := range []string{cgroupV2Dir, cgroupV1Dir} {
		b, err := h.ReadFile(path.Join(base, scope))
		if err != nil {
			continue
		}
		why = "no " + strings.Join(sortedNames(procs), ", ") + " process was found in logind session " + u.Session + " (" + path.Join(base, scope) + ")"
		pids := strings.Fields(string(b))
		if len(pids) > maxSessionProcs {
			pids = pids[:maxSessionProcs]
		}
		for _, pid := range pids {
			if !isDigits(pid) {
				continue
			}
			comm, err := h.ReadFile(path.Join("/proc", pid, "comm"))
			name := strings.TrimSpace(string(comm))
			if err != nil || !procs[name] {
				continue
			}
			p := path.Join("/proc", pid, "environ")
			raw, err := h.ReadFile(p)
			if err != nil {
				why = fmt.Sprintf("%s (%s) could not be read: %v", p, name, err)
				continue
			}
			return pickEnv(raw, want), p + " (" + name + ")", ""
		}
	}
	return nil, "", why
}

// sortedNames lists a set's names in order, for messages.
func sortedNames(set map[string]bool) []string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// envUnknown is a route's unknown reason when the session's environment,
// which says where the desktop reads its settings, could not be read and
// the settings read from the default places would have passed: what was
// read may not be what the session uses.
func envUnknown(desktop, why, vars, fix string) string {
	return "the " + desktop + " session's environment could not be read (" + why + "), so its " + vars +
		", which choose the files read, are unknown; " + fix
}

// pickEnv reads a NUL-separated environment block, keeping only want.
func pickEnv(raw []byte, want []string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(string(raw), "\x00") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		for _, w := range want {
			if k == w {
				out[k] = v
			}
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
