package ospatched

import (
	"fmt"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/osdata"
)

const day = 24 * time.Hour

// Evaluate judges the patch state at in.Now. In order: a build below its
// baseline fails; stale update metadata fails; pending security updates
// fail once the oldest has waited longer than max_pending_days (its age
// is the vendor's release date where known, else the time since updates
// were last installed, and never less than how long this agent has seen
// it pending); none pending passes. When pending updates could not be
// listed, a met baseline passes only if it, or the last installed patch,
// is recent. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "patch", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, th *Thresholds) checks.Result {
	grace := time.Duration(th.MaxPendingDays) * day
	ev := evidence(f, th)
	fail := func(summary string) checks.Result {
		return checks.Result{Status: checks.StatusFail, Summary: summary, Evidence: ev, Remediation: remediation(in.OS, f.OS)}
	}
	// A time further ahead than clocks drift says nothing: a last patch
	// "in the future" would read as just patched.
	if lp := f.LastPatch; lp != nil && lp.At.Sub(in.Now) > maxFutureSkew {
		ev["last_patch_ignored"] = fmt.Sprintf("%s (%s) is in the future: the device's clock or the record is wrong", lp.At.UTC().Format(time.RFC3339), lp.Source)
		f.LastPatch = nil
	}
	if r := f.LastRefresh; r != nil && r.At.Sub(in.Now) > maxFutureSkew {
		res := checks.Unknown(fmt.Sprintf("the update metadata's last refresh (%s, %s) is in the future: the device's clock or the record is wrong", r.At.UTC().Format(time.RFC3339), r.Source))
		res.Evidence = ev
		return res
	}

	baselineMet, baselineRecent := false, false
	b, hasBaseline := th.table().FindBaseline(f.OS)
	// A baseline is in force once the grace period after its release has
	// passed: a device has as long to install a baseline update as any
	// other security update, and a replay at the recorded time is judged
	// by the baselines of that time.
	if inForce := b.Released.Time.Add(grace); hasBaseline && in.Now.Before(inForce) {
		ev["baseline_pending"] = fmt.Sprintf("%s (%s, released %s) applies from %s", b.Minimum, b.Name, b.Released, inForce.Format(time.DateOnly))
		hasBaseline = false
	}
	if hasBaseline && f.OS.Version != "" {
		ev["baseline"] = fmt.Sprintf("%s (%s, %s)", b.Minimum, b.Name, b.Released)
		ev["baseline_source"] = b.Source
		if osdata.CompareVersions(f.OS.FullVersion(), b.Minimum) < 0 {
			return fail(fmt.Sprintf("%s is below the patch baseline %s (%s, released %s)", f.OS.FullVersion(), b.Minimum, b.Name, b.Released))
		}
		baselineMet = true
		baselineRecent = in.Now.Sub(b.Released.Time) <= time.Duration(th.MaxDaysSinceLastPatch)*day
	}

	if p := f.Pending; p != nil {
		if r := f.LastRefresh; r != nil && in.Now.Sub(r.At) > grace {
			return fail(fmt.Sprintf("update metadata was last refreshed %s ago (%s), so pending security updates cannot be seen", days(in.Now.Sub(r.At)), r.Source))
		}
		if p.Security == 0 && p.Incomplete != "" {
			r := checks.Unknown("no security updates were listed, but the list is incomplete: " + p.Incomplete)
			r.Evidence = ev
			return r
		}
		if p.Security == 0 {
			return checks.Result{Status: checks.StatusPass, Evidence: ev,
				Summary: fmt.Sprintf("no security updates pending (%s, checked %s)", p.Source, p.CheckedAt.Format(time.RFC3339))}
		}
		age, basis, lowerOnly, known := pendingAge(f, in.Now)
		if known && age > grace {
			return fail(fmt.Sprintf("%d security updates pending for %s (%s), past the %d-day grace period", p.Security, days(age), basis, th.MaxPendingDays))
		}
		if !known || lowerOnly {
			r := checks.Unknown(fmt.Sprintf("%d security updates are pending and how long is not known: no release dates and no record of a full update", p.Security))
			r.Evidence = ev
			return r
		}
		return checks.Result{Status: checks.StatusPass, Evidence: ev,
			Summary: fmt.Sprintf("%d security updates pending for %s (%s), within the %d-day grace period", p.Security, days(age), basis, th.MaxPendingDays)}
	}

	reason := f.PendingError
	if reason == "" {
		reason = "pending updates were not listed"
	}
	if baselineMet {
		lp := f.LastPatch
		recentPatch := lp != nil && in.Now.Sub(lp.At) <= time.Duration(th.MaxDaysSinceLastPatch)*day
		if baselineRecent || recentPatch {
			s := fmt.Sprintf("%s is at or above the patch baseline", f.OS.FullVersion())
			if lp != nil {
				s += fmt.Sprintf("; last update installed %s ago", days(in.Now.Sub(lp.At)))
			}
			return checks.Result{Status: checks.StatusPass, Evidence: ev, Summary: s + " (pending updates could not be listed: " + reason + ")"}
		}
		reason += fmt.Sprintf("; the baseline is met but it and the last installed update are older than %d days", th.MaxDaysSinceLastPatch)
	}
	r := checks.Unknown(reason)
	r.Evidence = ev
	return r
}

// maxFutureSkew is how far ahead of the evaluation a recorded time may
// lie and still be believed (clocks and time zones are often off by hours).
const maxFutureSkew = 24 * time.Hour

// pendingAge is how long the oldest pending security update has waited.
// lowerOnly is true when the only basis for an undated update is how
// long this agent has seen it, which can only show it is old, never that
// it is new.
func pendingAge(f *Facts, now time.Time) (age time.Duration, basis string, lowerOnly, known bool) {
	consider := func(d time.Duration, b string) {
		if !known || d > age {
			age, basis = d, b
		}
		known = true
	}
	undated := f.Pending.Security > len(f.Pending.Updates)
	for _, u := range f.Pending.Updates {
		if u.Released != nil {
			consider(now.Sub(*u.Released), "oldest released "+u.Released.Format(time.DateOnly))
			continue
		}
		undated = true
		if u.FirstSeen != nil {
			consider(now.Sub(*u.FirstSeen), "first seen by the agent "+u.FirstSeen.Format(time.DateOnly))
		}
	}
	if undated {
		if f.LastPatch != nil {
			consider(now.Sub(f.LastPatch.At), "no full update since "+f.LastPatch.At.Format(time.DateOnly))
		} else {
			lowerOnly = true
		}
	}
	return max(age, 0), basis, lowerOnly, known
}

func days(d time.Duration) string {
	n := int(d / day)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func evidence(f *Facts, th *Thresholds) map[string]any {
	ev := map[string]any{"max_pending_days": th.MaxPendingDays}
	if f.OS.Platform != "" {
		ev["os"] = f.OS.Name
		ev["version"] = f.OS.FullVersion()
	}
	if f.OSError != "" {
		ev["os_error"] = f.OSError
	}
	if p := f.Pending; p != nil {
		ev["pending_source"] = p.Source
		ev["pending_checked_at"] = p.CheckedAt.Format(time.RFC3339)
		ev["pending_security"] = p.Security
		if p.Total >= 0 {
			ev["pending_total"] = p.Total
		}
		if p.Incomplete != "" {
			ev["pending_incomplete"] = p.Incomplete
		}
		names := make([]string, 0, len(p.Updates))
		for _, u := range p.Updates {
			s := u.Name
			if u.Version != "" {
				s += " " + u.Version
			}
			names = append(names, s)
		}
		if len(names) > 0 {
			ev["pending_security_updates"] = names
		}
	}
	if f.PendingError != "" {
		ev["pending_error"] = f.PendingError
	}
	if s := f.LastPatch; s != nil {
		ev["last_patch"] = s.At.Format(time.RFC3339) + " (" + s.Source + ")"
	}
	if s := f.LastRefresh; s != nil {
		ev["last_refresh"] = s.At.Format(time.RFC3339) + " (" + s.Source + ")"
	}
	return ev
}

func remediation(goos string, id osdata.Identity) string {
	switch goos {
	case "windows":
		return "Open Settings > Windows Update, click Check for updates, install everything offered and restart."
	case "darwin":
		return "Open System Settings > General > Software Update, install the offered updates and restart."
	}
	switch id.Platform {
	case "fedora", "rhel", "rocky", "almalinux", "centos":
		return "Install the security updates: `sudo dnf upgrade --refresh --security` (or all updates with `sudo dnf upgrade --refresh`), then reboot if the kernel changed."
	}
	if isSUSE(id.Platform) {
		return "Install the security patches: `sudo zypper refresh && sudo zypper patch --category security` (Tumbleweed: `sudo zypper dup`), then reboot if a patch asks for it."
	}
	return "Install the updates: `sudo apt update && sudo apt full-upgrade`, then reboot if asked (or use Software Updater)."
}
