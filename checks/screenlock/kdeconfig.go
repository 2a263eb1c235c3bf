package screenlock

import (
	"fmt"
	"path"
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
func kdeConfigDirs(h host.Host, u consoleuser.User, f *Facts) []string {
	env, src := sessionEnv(h, u, kdeSessionProcs, []string{"XDG_CONFIG_DIRS", "XDG_CONFIG_HOME"})
	if src == "" {
		f.Notes = append(f.Notes, "the Plasma session's environment could not be read, so KDE config directories are the XDG defaults (/etc/xdg, ~/.config)")
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
	var dirs []string
	for i := len(system) - 1; i >= 0; i-- {
		dirs = append(dirs, system[i])
	}
	return dedupe(append(dirs, kdedefaults, home))
}

// sessionEnv returns the wanted variables of the environment one of
// procs (a desktop's session programs) in u's logind session started with, and where they came from
// ("" when no such process could be read). Only the wanted variables are
// kept: the rest of a session's environment is none of this check's
// business.
func sessionEnv(h host.Host, u consoleuser.User, procs map[string]bool, want []string) (map[string]string, string) {
	if !isDigits(u.ID) || !validDBName(u.Session) {
		return nil, ""
	}
	scope := path.Join("user-"+u.ID+".slice", "session-"+u.Session+".scope", "cgroup.procs")
	for _, base := range []string{cgroupV2Dir, cgroupV1Dir} {
		b, err := h.ReadFile(path.Join(base, scope))
		if err != nil {
			continue
		}
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
				continue
			}
			return pickEnv(raw, want), p + " (" + name + ")"
		}
	}
	return nil, ""
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
