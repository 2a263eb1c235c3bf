package ossupported

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/osdata"
)

// warnDays is how close to the end of support the summary says so.
const warnDays = 60

// First builds of Windows 10 (1507) and Windows 11 (21H2): the
// remediation differs on each side.
const (
	windows10FirstBuild = 10240
	windows11FirstBuild = 22000
)

// Evaluate judges the release against the end-of-life table (the
// embedded one with the policy's changes) at in.Now. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "release", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, th *Thresholds) checks.Result {
	tab := th.table()
	j := tab.Judge(f.OS, f.enrolledIDs(), in.Now)
	ev := evidence(f, j, tab)
	name := displayName(f.OS, j)
	switch j.State {
	case osdata.StateSupported:
		return checks.Result{Status: checks.StatusPass, Summary: supportedSummary(name, j, in), Evidence: ev}
	case osdata.StateExtended:
		x := j.Extension
		if th.AllowExtended {
			return checks.Result{Status: checks.StatusPass, Evidence: ev,
				Summary: fmt.Sprintf("%s is past its end of standard support (%s) and covered by %s until %s", name, j.EOL, x.Program, x.Until)}
		}
		return checks.Result{Status: checks.StatusFail, Evidence: ev, Remediation: remediation(in.OS, f.OS),
			Summary: fmt.Sprintf("%s reached end of standard support on %s; %s does not count under this policy", name, j.EOL, x.Program)}
	case osdata.StateEOL:
		return checks.Result{Status: checks.StatusFail, Summary: eolSummary(name, f, j), Evidence: ev, Remediation: remediation(in.OS, f.OS)}
	}
	r := checks.Unknown(j.Reason)
	r.Evidence = ev
	return r
}

func displayName(id osdata.Identity, j osdata.Judgement) string {
	if j.Release != nil {
		return j.Release.Name
	}
	if id.Name != "" {
		return id.Name
	}
	return id.Platform + " " + id.Version
}

func supportedSummary(name string, j osdata.Judgement, in checks.EvalInput) string {
	if j.EOL.IsZero() {
		if j.Reason != "" {
			return fmt.Sprintf("%s is supported (%s)", name, j.Reason)
		}
		return fmt.Sprintf("%s is supported; its vendor has announced no end date", name)
	}
	then := ""
	if x, ok := automaticExtension(j); ok {
		// Both dates: standard support, then the program every device
		// gets without enrolling (Debian LTS).
		then = fmt.Sprintf(", then by %s until %s", x.Program, x.Until)
	}
	days := int(j.EOL.End().Sub(in.Now).Hours() / 24)
	switch {
	case days <= warnDays && then != "":
		return fmt.Sprintf("%s is supported until %s%s (%d days of standard support left)", name, j.EOL, then, days)
	case days <= warnDays:
		return fmt.Sprintf("%s is supported until %s (%d days left: plan the upgrade)", name, j.EOL, days)
	}
	return fmt.Sprintf("%s is supported until %s%s", name, j.EOL, then)
}

// automaticExtension is the release's extended support that needs no
// enrolment and ends last, if any.
func automaticExtension(j osdata.Judgement) (osdata.Extension, bool) {
	var best osdata.Extension
	found := false
	if j.Release == nil {
		return best, false
	}
	for _, x := range j.Release.Extended {
		if len(x.Requires) == 0 && (!found || x.Until.After(best.Until.Time)) {
			best, found = x, true
		}
	}
	return best, found
}

func eolSummary(name string, f *Facts, j osdata.Judgement) string {
	var b strings.Builder
	switch {
	case j.EOL.IsZero() || j.EOL.Year() < 1971:
		fmt.Fprintf(&b, "%s is no longer supported by its vendor", name)
		if j.Reason != "" {
			fmt.Fprintf(&b, " (%s)", j.Reason)
		}
	default:
		fmt.Fprintf(&b, "%s reached end of support on %s", name, j.EOL)
	}
	if len(j.Missed) > 0 {
		progs := make([]string, 0, len(j.Missed))
		for _, x := range j.Missed {
			progs = append(progs, x.Program)
		}
		fmt.Fprintf(&b, "; no enrolment in %s was found", strings.Join(progs, " or "))
		if f.EnrollmentError != "" {
			fmt.Fprintf(&b, " (%s)", f.EnrollmentError)
		}
	}
	return b.String()
}

func evidence(f *Facts, j osdata.Judgement, tab *osdata.Table) map[string]any {
	ev := map[string]any{
		"platform":       f.OS.Platform,
		"version":        f.OS.Version,
		"os_name":        f.OS.Name,
		"source":         f.OS.Source,
		"support":        j.State,
		"table_reviewed": tab.Reviewed.String(),
	}
	if f.OS.Edition != "" {
		ev["edition"] = f.OS.Edition
	}
	if j.Release != nil {
		ev["release"] = j.Release.Name
		ev["release_source"] = j.Release.Source
		if j.Release.Note != "" {
			ev["release_note"] = j.Release.Note
		}
	}
	if !j.EOL.IsZero() && j.EOL.Year() > 1970 {
		ev["end_of_support"] = j.EOL.String()
	}
	if x := j.Extension; x != nil {
		ev["extended_support"] = x.Program
		ev["extended_until"] = x.Until.String()
		ev["extended_source"] = x.Source
	} else if x, ok := automaticExtension(j); ok && j.State == osdata.StateSupported {
		ev["extended_support"] = x.Program
		ev["extended_until"] = x.Until.String()
		ev["extended_source"] = x.Source
	}
	if len(f.Enrollments) > 0 {
		ids := make([]string, 0, len(f.Enrollments))
		for _, e := range f.Enrollments {
			ids = append(ids, e.ID)
		}
		ev["enrollments"] = ids
	}
	if f.EnrollmentSource != "" {
		ev["enrollment_source"] = f.EnrollmentSource
	}
	if f.EnrollmentError != "" {
		ev["enrollment_error"] = f.EnrollmentError
	}
	return ev
}

func remediation(goos string, id osdata.Identity) string {
	switch id.Platform {
	case "windows":
		build, _ := strconv.Atoi(id.Version)
		switch {
		case osdata.EditionClass(id.Edition, id.InstallationType) == "server":
			return "Move the server to a Windows Server release that is still supported (in-place upgrade or migration); ask IT first."
		case build > 0 && build < windows10FirstBuild:
			// Windows 7, 8 and 8.1 have no paid extension left to buy.
			return "This version of Windows no longer gets security updates: upgrade the PC to Windows 11 if it can run it, otherwise replace it; ask IT first."
		case build < windows11FirstBuild:
			return "Upgrade to Windows 11 (Settings > Windows Update > Upgrade to Windows 11), or have IT enrol the device in Windows 10 Extended Security Updates; a PC that cannot run Windows 11 must be replaced."
		}
		return "Install the latest Windows feature update: Settings > Windows Update > Check for updates, then Download and install the newest version of Windows."
	case "macos":
		return "Upgrade macOS: open System Settings > General > Software Update and install the newest macOS; a Mac that cannot run a supported macOS must be replaced."
	case "ubuntu":
		return "Upgrade to a supported Ubuntu release with `sudo do-release-upgrade`, or on an LTS release attach Ubuntu Pro (`sudo pro attach`) to get Expanded Security Maintenance."
	case "debian":
		return "Upgrade to the current Debian stable release by following its release notes (https://www.debian.org/releases/stable/releasenotes)."
	case "fedora":
		return "Upgrade Fedora: `sudo dnf system-upgrade download --releasever=<next>` then `sudo dnf system-upgrade reboot` (or use GNOME Software's upgrade banner)."
	case "rhel", "rocky", "almalinux", "centos":
		return "Upgrade to a supported major release with Leapp (`sudo leapp upgrade`) or reinstall with a supported release; ask IT first."
	case "sles", "opensuse-leap":
		return "Move to a supported service pack or release: `sudo zypper migration` on SUSE Linux Enterprise, or follow the openSUSE Leap upgrade guide (`sudo zypper dup` against the next release's repositories)."
	}
	if goos == "linux" {
		return "Upgrade to a release your distribution still supports with security updates; ask IT which releases are approved."
	}
	return "Upgrade the operating system to a release its vendor still supports."
}
