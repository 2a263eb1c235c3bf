package screenlock

import (
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// GNOME's screen-lock keys, as dconf paths, with their upstream schema
// defaults (gsettings-desktop-schemas).
const (
	keyIdleDelay   = "/org/gnome/desktop/session/idle-delay"
	keyLockEnabled = "/org/gnome/desktop/screensaver/lock-enabled"
	keyLockDelay   = "/org/gnome/desktop/screensaver/lock-delay"
	keyLockDisable = "/org/gnome/desktop/lockdown/disable-lock-screen"
	// keyLockSuspend is Ubuntu's addition to the schema: whether GNOME
	// Shell locks the screen when the machine suspends. Upstream GNOME
	// has no such key and locks on suspend when lock-enabled is true.
	keyLockSuspend = "/org/gnome/desktop/screensaver/ubuntu-lock-on-suspend"
)

var gnomeDefaults = map[string]string{keyIdleDelay: "300", keyLockEnabled: "true", keyLockDelay: "0", keyLockDisable: "false", keyLockSuspend: "true"}

// Sources of values no database or override set.
const (
	gnomeDefaultSource  = "GNOME schema default"
	ubuntuDefaultSource = "Ubuntu schema default; upstream GNOME has no such key"
)

var gnomeKeys = []string{keyIdleDelay, keyLockEnabled, keyLockDelay, keyLockDisable, keyLockSuspend}

// Where dconf and GSettings keep their data.
const (
	dconfProfileEtc   = "/etc/dconf/profile/user"
	dconfProfileShare = "/usr/share/dconf/profile/user"
	dconfDBDir        = "/etc/dconf/db"
	schemaOverrides   = "/usr/share/glib-2.0/schemas/*.gschema.override"
)

// dconfDB is one database of the user's dconf profile.
type dconfDB struct {
	source string
	values map[string]string
	locks  map[string]bool
	// unread, when set, says why the database could not be read.
	unread string
}

func collectGNOME(h host.Host, u consoleuser.User) *Facts {
	f := &Facts{Platform: platformGNOME}
	dbs, envWhy, mandatory := dconfStack(h, u, f)
	vals := map[string]string{}
	srcs := map[string]string{}
	var unread []string
	for _, key := range gnomeKeys {
		v, src, why := resolveDconf(dbs, key)
		if why != "" {
			unread = append(unread, why)
			continue
		}
		if src == "" {
			v, src, why = schemaDefault(h, u, key)
			if why != "" {
				unread = append(unread, why)
				continue
			}
			if key == keyLockSuspend && src == gnomeDefaultSource {
				src = ubuntuDefaultSource
			}
		}
		vals[key], srcs[key] = v, src
		f.Settings = append(f.Settings, Setting{Name: key, Value: v, Source: src})
	}
	route := Route{Name: "GNOME idle lock", PasswordRequired: true, Source: "dconf " + keyIdleDelay + ", " + keyLockDelay}
	if len(unread) > 0 {
		route.Unknown = strings.Join(dedupe(unread), "; ")
		f.Routes = []Route{route}
		return f
	}
	idle, err1 := strconv.Atoi(vals[keyIdleDelay])
	delay, err2 := strconv.Atoi(vals[keyLockDelay])
	enabled, err3 := strconv.ParseBool(vals[keyLockEnabled])
	disabled, err4 := strconv.ParseBool(vals[keyLockDisable])
	onSuspend, err5 := strconv.ParseBool(vals[keyLockSuspend])
	// Both delays are uint32 in the schema; a value outside that range
	// (a keyfile or a user database can hold any type) is not a timeout.
	for _, d := range []struct {
		key string
		n   int
		err *error
	}{{keyIdleDelay, idle, &err1}, {keyLockDelay, delay, &err2}} {
		if *d.err == nil && (d.n < 0 || uint64(d.n) > math.MaxUint32) {
			*d.err = fmt.Errorf("%s %d is outside uint32", d.key, d.n)
		}
	}
	if err := firstErr(err1, err2, err3, err4, err5); err != nil {
		route.Unknown = fmt.Sprintf("a GNOME screen-lock setting has an unexpected value: %v", err)
		f.Routes = []Route{route}
		return f
	}
	// After idle-delay the session goes idle and the screen blanks; the
	// lock follows lock-delay later, unless locking is off or forbidden.
	route.IdleSeconds, route.GraceSeconds = idle, delay
	route.PasswordRequired = enabled && !disabled
	if envWhy != "" && !(mandatory && lockedAll(srcs, keyIdleDelay, keyLockEnabled, keyLockDelay, keyLockDisable)) {
		f.SessionEnvUnread = envUnknown("GNOME", envWhy, "DCONF_PROFILE and XDG_CONFIG_HOME",
			"run the agent as root with /proc not mounted hidepid, or lock the screen-lock keys in the mandatory dconf profile /run/dconf/user/UID")
	}
	f.Routes = []Route{route}
	f.ResumeUnlocked = gnomeResumeUnlocked(u, enabled, disabled, onSuspend, srcs)
	return f
}

// gnomeResumeUnlocked says why GNOME Shell would not lock when the machine
// suspends, or "". Ubuntu's shell decides with ubuntu-lock-on-suspend, so
// that key counts on an Ubuntu session or wherever it was set; elsewhere
// upstream's rule, lock-enabled, applies.
func gnomeResumeUnlocked(u consoleuser.User, enabled, disabled, onSuspend bool, srcs map[string]string) string {
	ubuntu := strings.Contains(strings.ToLower(u.Desktop), "ubuntu") || srcs[keyLockSuspend] != ubuntuDefaultSource
	switch {
	case disabled:
		return "the lock screen is disabled (" + keyLockDisable + " is true)"
	case ubuntu && !onSuspend:
		return keyLockSuspend + " is false"
	case !ubuntu && !enabled:
		return keyLockEnabled + " is false, so GNOME Shell does not lock on suspend either"
	}
	return ""
}

// gnomeSessionProcs are the programs of a GNOME session whose environment
// is the session's (gnome-session starts the shell with it).
var gnomeSessionProcs = map[string]bool{"gnome-session-binary": true, "gnome-session": true, "gnome-shell": true}

// dconfStack reads the databases of the user's dconf profile, highest
// priority first, choosing the profile as dconf does
// (engine/dconf-engine-profile.c): the mandatory profile
// /run/dconf/user/UID, else the session's DCONF_PROFILE (a path, or a name
// looked up like "user"; a name that is not found is dconf's null
// profile, no database at all), else $XDG_RUNTIME_DIR/dconf/profile, else
// the "user" profile, else the user database alone. The user database is
// under the session's XDG_CONFIG_HOME (default ~/.config).
//
// It also returns why the session's environment could not be read ("" when
// it was) and whether the profile is the mandatory one, which no
// environment can replace.
func dconfStack(h host.Host, u consoleuser.User, f *Facts) (dbs []dconfDB, envWhy string, mandatory bool) {
	env, envSource, envWhy := sessionEnv(h, u, gnomeSessionProcs, []string{"DCONF_PROFILE", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"})
	sources := []dconfSource{{kind: "user-db", name: "user"}}
	var candidates []string
	if isDigits(u.ID) {
		candidates = append(candidates, "/run/dconf/user/"+u.ID)
	}
	named := env["DCONF_PROFILE"]
	switch {
	case path.IsAbs(named):
		candidates = append(candidates, path.Clean(named))
	case validDBName(named):
		candidates = append(candidates, "/etc/dconf/profile/"+named, "/usr/local/share/dconf/profile/"+named, "/usr/share/dconf/profile/"+named)
	default:
		runtime := env["XDG_RUNTIME_DIR"]
		if !path.IsAbs(runtime) && isDigits(u.ID) {
			runtime = "/run/user/" + u.ID
		}
		if path.IsAbs(runtime) {
			candidates = append(candidates, path.Join(runtime, "dconf", "profile"))
		}
		candidates = append(candidates, dconfProfileEtc, dconfProfileShare)
	}
	if named != "" {
		f.Settings = append(f.Settings, Setting{Name: "DCONF_PROFILE", Value: named, Source: envSource})
	}
	found := false
	for _, p := range candidates {
		if b, err := readOptional(h, p); err != nil {
			f.Notes = append(f.Notes, readErrorReason(p, err))
		} else if b != nil {
			sources = parseDconfProfile(b)
			f.Settings = append(f.Settings, Setting{Name: "dconf profile", Value: profileString(sources), Source: p})
			found, mandatory = true, p == "/run/dconf/user/"+u.ID
			break
		}
	}
	if !found && named != "" {
		// dconf warns and uses the null configuration: no database.
		sources = nil
		f.Notes = append(f.Notes, "the session's DCONF_PROFILE "+named+" names no profile file, so dconf reads no database and the schema defaults apply")
	}
	configHome := path.Join(u.Home, ".config")
	if v := env["XDG_CONFIG_HOME"]; path.IsAbs(v) {
		configHome = path.Clean(v)
		f.Settings = append(f.Settings, Setting{Name: "XDG_CONFIG_HOME", Value: configHome, Source: envSource})
	}
	for _, s := range sources {
		switch s.kind {
		case "user-db":
			if !validDBName(s.name) {
				continue
			}
			p := path.Join(configHome, "dconf", s.name)
			dbs = append(dbs, readDconfBinary(h, p, true))
		case "system-db":
			if !validDBName(s.name) {
				continue
			}
			dbs = append(dbs, readSystemDB(h, s.name, f))
		case "file-db":
			if path.IsAbs(s.name) {
				dbs = append(dbs, readDconfBinary(h, s.name, false))
			}
		}
	}
	return dbs, envWhy, mandatory
}

// lockedAll reports whether every key's value came from a locked
// database, which the user database cannot override.
func lockedAll(srcs map[string]string, keys ...string) bool {
	for _, k := range keys {
		if !strings.HasSuffix(srcs[k], " (locked)") {
			return false
		}
	}
	return true
}

func validDBName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00")
}

func profileString(ss []dconfSource) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.kind + ":" + s.name
	}
	return strings.Join(parts, ", ")
}

// readDconfBinary reads a GVDB database; a missing user database just
// means the user never changed a setting.
func readDconfBinary(h host.Host, p string, user bool) dconfDB {
	db := dconfDB{source: p, values: map[string]string{}, locks: map[string]bool{}}
	b, err := readOptional(h, p)
	if err != nil {
		db.unread = readErrorReason(p, err)
		return db
	}
	if b == nil {
		return db
	}
	t, err := parseGVDB(b)
	if err != nil {
		db.unread = fmt.Sprintf("cannot decode %s: %v", p, err)
		return db
	}
	db.values = t.values
	if locks := t.tables[".locks"]; locks != nil && !user {
		for k := range locks.values {
			db.locks[k] = true
		}
	}
	return db
}

// readSystemDB reads /etc/dconf/db/NAME as compiled by `dconf update`,
// which is what dconf itself reads; without it, the keyfiles in NAME.d
// and their locks are read as text (later files win, as dconf update
// does) and a note says the database was not compiled.
func readSystemDB(h host.Host, name string, f *Facts) dconfDB {
	compiled := path.Join(dconfDBDir, name)
	if _, err := h.Stat(compiled); err == nil {
		return readDconfBinary(h, compiled, false)
	}
	dir := compiled + ".d"
	db := dconfDB{source: dir, values: map[string]string{}, locks: map[string]bool{}}
	files, err := h.Glob(path.Join(dir, "*"))
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		db.unread = readErrorReason(dir, err)
		return db
	}
	if len(files) > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("%s is not compiled (run `dconf update`); its keyfiles in %s were read instead", compiled, dir))
	}
	// A keyfile or lock file that cannot be read may be the one that
	// sets or locks a key, so the database is unread, not smaller.
	readPart := func(p string) ([]byte, bool) {
		b, err := h.ReadFile(p)
		if err == nil {
			return b, true
		}
		if fi, serr := h.Stat(p); serr == nil && fi.IsDir() {
			return nil, false // the locks directory itself
		}
		if !errors.Is(err, host.ErrNotFound) {
			db.unread = readErrorReason(p, err)
		}
		return nil, false
	}
	for _, p := range files {
		b, ok := readPart(p)
		if db.unread != "" {
			return db
		}
		if !ok {
			continue
		}
		kf := parseKeyfile(b)
		for group, kv := range kf.groups {
			for k, v := range kv {
				db.values["/"+strings.Trim(group, "/")+"/"+k] = gvariantTextValue(v)
			}
		}
	}
	lockFiles, err := h.Glob(path.Join(dir, "locks", "*"))
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		db.unread = readErrorReason(path.Join(dir, "locks"), err)
		return db
	}
	for _, p := range lockFiles {
		b, ok := readPart(p)
		if db.unread != "" {
			return db
		}
		if ok {
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(strings.TrimSuffix(line, "\r")); strings.HasPrefix(line, "/") {
					db.locks[line] = true
				}
			}
		}
	}
	return db
}

// resolveDconf applies dconf's rule: a key locked in a database cannot be
// overridden by the databases before it in the profile. It returns the
// value and its source, or why a database that could decide was unread;
// ("", "", "") means no database sets the key.
func resolveDconf(dbs []dconfDB, key string) (value, source, unread string) {
	start := 0
	for i, db := range dbs {
		if db.locks[key] {
			start = i
		}
	}
	for _, db := range dbs[start:] {
		if db.unread != "" {
			return "", "", db.unread
		}
		if v, ok := db.values[key]; ok {
			src := db.source
			if db.locks[key] {
				src += " (locked)"
			}
			return v, src, ""
		}
	}
	return "", "", ""
}

// schemaDefault is the key's default: the last GSettings vendor override
// that sets it (distributions change defaults there), else upstream's.
// An override file that cannot be read may be the one changing the
// default, so it is returned as why the default is not known.
func schemaDefault(h host.Host, u consoleuser.User, key string) (value, source, why string) {
	schema := strings.ReplaceAll(strings.Trim(path.Dir(key), "/"), "/", ".")
	name := path.Base(key)
	value, source = gnomeDefaults[key], gnomeDefaultSource
	files, err := h.Glob(schemaOverrides)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		return "", "", readErrorReason(schemaOverrides, err)
	}
	desktop := strings.ToLower(u.Desktop)
	for _, p := range files {
		b, err := h.ReadFile(p)
		if errors.Is(err, host.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", "", readErrorReason(p, err)
		}
		groups := parseKeyfile(b).groups
		// A desktop-specific override ("[schema:ubuntu]") beats a plain one.
		for _, group := range overrideGroups(groups, schema, desktop) {
			if v, ok := groups[group][name]; ok {
				value, source = gvariantTextValue(v), p
			}
		}
	}
	return value, source, ""
}

// overrideGroups lists the groups of an override file that apply to
// schema on desktop, plain group first.
func overrideGroups(groups map[string]map[string]string, schema, desktop string) []string {
	var plain, scoped []string
	for group := range groups {
		id, only, isScoped := strings.Cut(group, ":")
		switch {
		case id != schema:
		case !isScoped:
			plain = append(plain, group)
		case only != "" && strings.Contains(desktop, strings.ToLower(only)):
			scoped = append(scoped, group)
		}
	}
	sort.Strings(scoped)
	return append(plain, scoped...)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
