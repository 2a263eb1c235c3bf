package screenlock

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/checks/host"
)

// KDE Plasma's screen locker configuration, group [Daemon] of
// kscreenlockerrc in each config directory (kdeconfig.go finds them).
const (
	kdeRC    = "kscreenlockerrc"
	kdeGroup = "Daemon"
)

// kscreenlocker's defaults (kscreenlockersettings.kcfg): lock after 5
// minutes, with a 5 second grace, and on resume from suspend.
var kdeDefaults = map[string]string{"Autolock": "true", "Timeout": "5", "LockGrace": "5", "LockOnResume": "true"}

var kdeKeys = []string{"Autolock", "Timeout", "LockGrace", "LockOnResume"}

// maxKDEMinutes is the largest Timeout whose seconds still fit KConfig's
// int (a larger value would also overflow the conversion to seconds).
const maxKDEMinutes = math.MaxInt32 / 60

func collectKDE(h host.Host, u consoleuser.User) *Facts {
	f := &Facts{Platform: platformKDE}
	route := Route{Name: "KDE automatic lock", PasswordRequired: true}
	var files []keyfile
	var sources []string
	dirs, envWhy := kdeConfigDirs(h, u, f)
	for _, dir := range dirs {
		p := path.Join(dir, kdeRC)
		b, err := readOptional(h, p)
		if err != nil {
			route.Unknown = readErrorReason(p, err)
			f.Routes = []Route{route}
			return f
		}
		if b != nil {
			files, sources = append(files, parseKeyfile(b)), append(sources, p)
		}
	}
	vals := map[string]string{}
	for _, k := range kdeKeys {
		v, src := kdeDefaults[k], "kscreenlocker default"
		// Files are in KConfig's order, least specific first: later files
		// win unless an earlier one made the key immutable ([$i]).
		for i, kf := range files {
			if x, ok := kf.get(kdeGroup, k); ok {
				v, src = x, sources[i]
			}
			if kf.locked(kdeGroup, k) {
				src += " (immutable)"
				break
			}
		}
		vals[k] = v
		f.Settings = append(f.Settings, Setting{Name: "[" + kdeGroup + "] " + k, Value: v, Source: src})
	}
	autolock, err1 := kdeBool(vals["Autolock"])
	minutes, err2 := strconv.Atoi(vals["Timeout"])
	grace, err3 := strconv.Atoi(vals["LockGrace"])
	onResume, err4 := kdeBool(vals["LockOnResume"])
	route.Source = "kscreenlockerrc [Daemon] Autolock, Timeout, LockGrace"
	if err2 == nil && (minutes < 0 || minutes > maxKDEMinutes) {
		err2 = fmt.Errorf("Timeout %d is not a number of minutes KConfig reads", minutes)
	}
	if err3 == nil && (grace < 0 || grace > math.MaxInt32) {
		err3 = fmt.Errorf("LockGrace %d is not a number of seconds KConfig reads", grace)
	}
	if err := firstErr(err1, err2, err3, err4); err != nil {
		route.Unknown = fmt.Sprintf("a kscreenlockerrc setting has an unexpected value: %v", err)
		f.Routes = []Route{route}
		return f
	}
	if autolock && minutes > 0 {
		route.IdleSeconds, route.GraceSeconds = minutes*60, grace
	}
	if envWhy != "" {
		f.SessionEnvUnread = envUnknown("Plasma", envWhy, "XDG_CONFIG_DIRS and XDG_CONFIG_HOME",
			"run the agent as root with /proc not mounted hidepid, so it reads the environment of the session's startplasma, ksmserver or plasmashell")
	}
	if !onResume {
		f.ResumeUnlocked = "kscreenlockerrc [Daemon] LockOnResume is false"
	}
	f.Routes = []Route{route}
	return f
}

// kdeBool reads KConfig's booleans.
func kdeBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes":
		return true, nil
	case "false", "0", "off", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}
