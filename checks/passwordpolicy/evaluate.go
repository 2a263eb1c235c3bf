package passwordpolicy

import (
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// rule is one sub-rule of C.6 judged on its own.
type rule struct {
	name string
	s    Setting
	// ok says whether the value meets the threshold; want describes it.
	ok   func(v int) bool
	want string
	// show renders the value for people.
	show func(v int) string
}

func rules(f *Facts, th *Thresholds) []rule {
	plain := func(v int) string { return fmt.Sprint(v) }
	never := func(word string) func(int) string {
		return func(v int) string {
			if v <= 0 {
				return word
			}
			return fmt.Sprint(v)
		}
	}
	return []rule{
		{"min_length", f.MinLength, func(v int) bool { return v >= th.MinLength }, fmt.Sprintf(">= %d", th.MinLength), plain},
		{"min_classes", f.MinClasses, func(v int) bool { return v >= th.MinClasses }, fmt.Sprintf(">= %d of 4", th.MinClasses), plain},
		{"max_age_days", f.MaxAgeDays, func(v int) bool { return v >= 1 && v <= th.MaxAgeDays }, fmt.Sprintf("1-%d", th.MaxAgeDays), never("never expires")},
		{"history", f.History, func(v int) bool { return v >= th.History }, fmt.Sprintf(">= %d", th.History), plain},
		{"lockout_threshold", f.LockoutThreshold, func(v int) bool { return v >= 1 && v <= th.LockoutThreshold }, fmt.Sprintf("1-%d", th.LockoutThreshold), never("never locks")},
	}
}

// Evaluate judges each sub-rule separately: any failing sub-rule fails the
// control (the summary names them all), any undetermined one with no
// failure makes it unknown, and it passes only when all five are met.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "password policy", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, th *Thresholds) checks.Result {
	ev := map[string]any{"sources": f.Sources}
	if len(f.Notes) > 0 {
		ev["notes"] = f.Notes
	}
	var failed, undetermined, passed []string
	for _, r := range rules(f, th) {
		e := map[string]any{"required": r.want}
		switch {
		case r.s.Unknown != "":
			e["result"], e["unknown"] = "unknown", r.s.Unknown
			undetermined = append(undetermined, r.name+" ("+r.s.Unknown+")")
		case r.ok(r.s.Value):
			e["result"], e["value"], e["source"] = "pass", r.s.Value, r.s.Source
			passed = append(passed, r.name)
		default:
			e["result"], e["value"], e["source"] = "fail", r.s.Value, r.s.Source
			failed = append(failed, fmt.Sprintf("%s %s (needs %s)", r.name, r.show(r.s.Value), r.want))
		}
		if r.s.Detail != "" {
			e["detail"] = r.s.Detail
		}
		ev[r.name] = e
	}
	switch {
	case len(failed) > 0:
		return checks.Result{
			Status:      checks.StatusFail,
			Summary:     "password rules too weak: " + strings.Join(failed, ", "),
			Evidence:    ev,
			Remediation: remediation(in.OS),
		}
	case len(undetermined) > 0:
		r := checks.Unknown(strings.Join(undetermined, "; "))
		r.Evidence = ev
		r.Remediation = remediation(in.OS)
		return r
	}
	return checks.Result{
		Status:   checks.StatusPass,
		Summary:  fmt.Sprintf("length %d, %d classes, expiry %d days, history %d, lockout after %d failures", f.MinLength.Value, f.MinClasses.Value, f.MaxAgeDays.Value, f.History.Value, f.LockoutThreshold.Value),
		Evidence: ev,
	}
}

func remediation(goos string) string {
	switch goos {
	case "windows":
		return "Ask IT to apply the password Group Policy, or as administrator open secpol.msc > Account Policies and set Password Policy (length 8, complexity on, maximum age 90, history 6) and Account Lockout Policy (threshold 5)."
	case "darwin":
		return "Ask IT to install the Postern password-policy configuration profile (Passcode payload: minLength 8, minComplexChars, maxPINAgeInDays 90, pinHistory 6, maxFailedAttempts 5), or set it with `pwpolicy -setaccountpolicies`."
	}
	return "As root, install libpam-pwquality and set minlen = 8 and minclass = 3 in /etc/security/pwquality.conf, add remember=6 to pam_pwhistory, enable pam_faillock with deny = 5, and set PASS_MAX_DAYS 90 in /etc/login.defs (and `chage -M 90` for existing users)."
}
