package screenlock

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// never stands for a screen that does not lock on its own.
const never = -1

// powerResult is the fastest lock on one power source.
type powerResult struct {
	power   string
	seconds int // never when no known route locks
	route   Route
	unknown []string
}

// Evaluate passes when, on every power source that applies, the screen
// locks on its own with a password within MaxIdleSeconds (idle time plus
// grace). It is unknown when a route that might decide could not be read,
// and not applicable without a graphical session. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "screen lock", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, t *Thresholds) checks.Result {
	ev := evidence(f, t)
	if f.NotApplicable != "" {
		return checks.Result{Status: checks.StatusNotApplicable, Summary: f.NotApplicable, Evidence: ev}
	}
	results := byPower(f, t)
	worst := results[0]
	for _, r := range results[1:] {
		if r.seconds == never || (worst.seconds != never && r.seconds > worst.seconds) {
			worst = r
		}
	}
	for _, r := range results {
		key := "lock_seconds"
		if r.power != PowerAny {
			key += "_" + r.power
		}
		ev[key] = secondsEvidence(r.seconds)
	}
	ev["effective_lock_seconds"] = secondsEvidence(worst.seconds)
	res := checks.Result{Evidence: ev}
	idleOK := worst.seconds != never && worst.seconds <= t.MaxIdleSeconds
	resumeBad := f.ResumeUnlocked != "" && t.RequirePassword
	if f.ResumeUnlocked != "" {
		ev["resume_unlocked"] = f.ResumeUnlocked
	}
	switch {
	case idleOK && !resumeBad && f.SessionEnvUnread != "":
		// Positive evidence read from places the session may not use.
		return unknown(ev, f.SessionEnvUnread)
	case idleOK && !resumeBad:
		res.Status = checks.StatusPass
		res.Summary = fmt.Sprintf("the screen locks with a password after %s idle%s (%s), within the %s limit",
			duration(worst.seconds), onPower(worst.power, len(results)), worst.route.Name, duration(t.MaxIdleSeconds))
		return res
	case !idleOK && len(worst.unknown) > 0:
		return unknown(ev, strings.Join(worst.unknown, "; "))
	case !idleOK && f.UserSettingsUnread != "":
		return unknown(ev, f.UserSettingsUnread)
	}
	res.Status = checks.StatusFail
	res.Remediation = remediation(f.Platform, t.MaxIdleSeconds, resumeBad)
	switch {
	case idleOK:
		res.Summary = fmt.Sprintf("the screen locks with a password after %s idle%s (%s), but waking from suspend does not ask for it: %s",
			duration(worst.seconds), onPower(worst.power, len(results)), worst.route.Name, f.ResumeUnlocked)
		return res
	case worst.seconds == never:
		res.Summary = "the screen never locks with a password on its own" + onPower(worst.power, len(results)) + neverWhy(f, worst.power, t)
	default:
		res.Summary = fmt.Sprintf("the screen locks with a password only after %s idle%s (%s), over the %s limit",
			duration(worst.seconds), onPower(worst.power, len(results)), worst.route.Name, duration(t.MaxIdleSeconds))
	}
	if resumeBad {
		res.Summary += "; and waking from suspend does not ask for the password: " + f.ResumeUnlocked
	}
	return res
}

func unknown(ev map[string]any, reason string) checks.Result {
	res := checks.Unknown(reason)
	res.Evidence = ev
	return res
}

// byPower finds the fastest lock with a password on each power source.
func byPower(f *Facts, t *Thresholds) []powerResult {
	powers := []string{PowerAny}
	for _, r := range f.Routes {
		if r.Power != PowerAny {
			powers = []string{PowerAC, PowerBattery}
			if f.HasBattery != nil && !*f.HasBattery {
				powers = []string{PowerAC}
			}
			break
		}
	}
	out := make([]powerResult, 0, len(powers))
	for _, p := range powers {
		pr := powerResult{power: p, seconds: never}
		for _, r := range f.Routes {
			if r.Power != PowerAny && r.Power != p {
				continue
			}
			if r.Unknown != "" {
				pr.unknown = append(pr.unknown, r.Name+": "+r.Unknown)
				continue
			}
			if r.IdleSeconds <= 0 || (t.RequirePassword && !r.PasswordRequired) {
				continue
			}
			if s := lockSeconds(r); pr.seconds == never || s < pr.seconds {
				pr.seconds, pr.route = s, r
			}
		}
		out = append(out, pr)
	}
	return out
}

// lockSeconds is a route's idle time plus its grace, saturating instead
// of wrapping: the numbers come from files and tools the user may control,
// and a sum that wrapped negative would read as "locks at once".
func lockSeconds(r Route) int {
	grace := max(r.GraceSeconds, 0)
	if r.IdleSeconds > math.MaxInt-grace {
		return math.MaxInt
	}
	return r.IdleSeconds + grace
}

// neverWhy explains a screen that never locks from the routes it has.
func neverWhy(f *Facts, power string, t *Thresholds) string {
	var why []string
	for _, r := range f.Routes {
		if r.Unknown != "" || (r.Power != PowerAny && r.Power != power) {
			continue
		}
		switch {
		case r.IdleSeconds <= 0:
			why = append(why, r.Name+" is off")
		case t.RequirePassword && !r.PasswordRequired:
			why = append(why, r.Name+" after "+duration(r.IdleSeconds)+" asks no password")
		}
	}
	if len(why) == 0 {
		return ""
	}
	return ": " + strings.Join(why, ", ")
}

func evidence(f *Facts, t *Thresholds) map[string]any {
	ev := map[string]any{
		"platform":         f.Platform,
		"max_idle_seconds": t.MaxIdleSeconds,
		"require_password": t.RequirePassword,
	}
	if f.User != "" {
		ev["console_user"] = f.User
	}
	if f.HasBattery != nil {
		ev["has_battery"] = *f.HasBattery
	}
	routes := make([]string, 0, len(f.Routes))
	for _, r := range f.Routes {
		routes = append(routes, routeString(r))
	}
	if len(routes) > 0 {
		ev["routes"] = routes
	}
	settings := map[string]string{}
	for _, s := range f.Settings {
		settings[s.Name] = s.Value + " (" + s.Source + ")"
	}
	if len(settings) > 0 {
		ev["settings"] = settings
	}
	if len(f.Notes) > 0 {
		notes := append([]string(nil), f.Notes...)
		sort.Strings(notes)
		ev["notes"] = notes
	}
	return ev
}

func routeString(r Route) string {
	name := r.Name
	if r.Power != PowerAny {
		name += " on " + powerName(r.Power)
	}
	if r.Unknown != "" {
		return name + ": unknown, " + r.Unknown
	}
	if r.IdleSeconds <= 0 {
		return name + ": off (" + r.Source + ")"
	}
	pw := "password"
	if !r.PasswordRequired {
		pw = "no password"
	}
	return fmt.Sprintf("%s: %d s idle + %d s grace, %s (%s)", name, r.IdleSeconds, r.GraceSeconds, pw, r.Source)
}

func secondsEvidence(s int) any {
	if s == never {
		return "never"
	}
	return s
}

func powerName(p string) string {
	if p == PowerAC {
		return "mains"
	}
	return "battery"
}

func onPower(p string, n int) string {
	if p == PowerAny || n < 2 {
		return ""
	}
	return " on " + powerName(p)
}

// duration renders seconds the way people read timeouts: "20 min",
// "10 min 5 s", "45 s".
func duration(s int) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s%60 == 0:
		return fmt.Sprintf("%d min", s/60)
	}
	return fmt.Sprintf("%d min %d s", s/60, s%60)
}

func remediation(platform string, maxIdle int, resume bool) string {
	m := max(maxIdle/60, 1)
	switch platform {
	case "windows":
		s := fmt.Sprintf("Open Settings > Personalization > Lock screen > Screen saver, choose a screen saver, set Wait to %d minutes or less and tick \"On resume, display logon screen\"; or have IT set the \"Interactive logon: Machine inactivity limit\" policy.", m)
		if resume {
			s += " Also set Settings > Accounts > Sign-in options > \"If you've been away, when should Windows require you to sign in again?\" to \"When PC wakes up from sleep\" (or run `powercfg /setacvalueindex SCHEME_CURRENT SUB_NONE CONSOLELOCK 1` and `powercfg /setdcvalueindex SCHEME_CURRENT SUB_NONE CONSOLELOCK 1` as an administrator)."
		}
		return s
	case "macos":
		return fmt.Sprintf("Open System Settings > Lock Screen, set \"Start Screen Saver when inactive\" and \"Turn display off\" (on battery and on power adapter) to %d minutes or less, and \"Require password after screen saver begins or display is turned off\" to Immediately.", m)
	case "gnome":
		s := fmt.Sprintf("Open Settings > Privacy & Security > Screen Lock (or Power > Screen Blank), set Blank Screen Delay to %d minutes or less and turn Automatic Screen Lock on with a delay of \"Screen Turns Off\".", m)
		if resume {
			s += " On Ubuntu also turn \"Lock Screen on Suspend\" on (`gsettings set org.gnome.desktop.screensaver ubuntu-lock-on-suspend true`)."
		}
		return s
	case "kde":
		s := fmt.Sprintf("Open System Settings > Screen Locking, tick \"Lock screen automatically\" after %d minutes or less and set \"Allow unlocking without password for\" to a few seconds.", m)
		if resume {
			s += " Also tick \"Lock after waking from sleep\"."
		}
		return s
	}
	return fmt.Sprintf("Configure your desktop's screen locker to lock the screen with your password after %d minutes idle or less.", m)
}
