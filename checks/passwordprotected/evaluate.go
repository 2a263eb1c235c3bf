package passwordprotected

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
)

// Evaluate fails when an automatic sign-in is configured or an enabled
// interactive account has no password (or, on Windows, need not have one);
// it is unknown when a source could not be read, no account was found, or
// no enabled account has a password, and nothing failed; it passes only
// when at least one enabled account has a password. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, checks.NoThresholds]{What: "password protection", Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts.
func evaluateFacts(in checks.EvalInput, f *Facts, _ *checks.NoThresholds) checks.Result {
	at := in.CollectedAt
	if at.IsZero() {
		at = in.Now
	}
	var autos, blank, inactive []string
	for _, a := range f.AutoLogins {
		d := describeAuto(a)
		if a.Inactive {
			inactive = append(inactive, d)
			continue
		}
		autos = append(autos, d)
	}
	var accounts []string
	for _, a := range f.Accounts {
		accounts = append(accounts, describeAccount(a, at))
		if disabled(a, at) {
			continue
		}
		if a.Password == PasswordNone || a.Password == PasswordNotRequired {
			blank = append(blank, a.Name)
		}
	}
	ev := map[string]any{
		"auto_login":         orNone(autos),
		"auto_login_sources": f.AutoLoginSources,
		"accounts":           orNone(accounts),
		"accounts_source":    f.AccountsSource,
	}
	if len(inactive) > 0 {
		ev["auto_login_inactive"] = inactive
	}
	if len(f.Unreadable) > 0 {
		ev["unreadable"] = f.Unreadable
	}
	if len(f.WeakEvidence) > 0 {
		ev["weak_evidence"] = f.WeakEvidence
	}
	if len(f.Notes) > 0 {
		ev["notes"] = f.Notes
	}
	var problems []string
	if len(autos) > 0 {
		problems = append(problems, "automatic sign-in is on ("+strings.Join(autos, "; ")+")")
	}
	if len(blank) > 0 {
		problems = append(problems, blankPhrase(in.OS, blank))
	}
	switch {
	case len(problems) > 0:
		return checks.Result{
			Status:      checks.StatusFail,
			Summary:     strings.Join(problems, "; "),
			Evidence:    ev,
			Remediation: remediation(in.OS, len(autos) > 0, blank),
		}
	case len(f.Unreadable) > 0:
		r := checks.Unknown(strings.Join(f.Unreadable, "; "))
		r.Evidence = ev
		r.Remediation = unknownRemediation(in.OS)
		return r
	case f.AccountsSource == "":
		r := checks.Unknown("the accounts were not read")
		r.Evidence = ev
		return r
	case len(f.Accounts) == 0:
		// Every real system has at least the account someone signs in
		// with; a list that came back empty (Wine's SAM, a container's
		// passwd) shows nothing about passwords, so it cannot pass.
		r := checks.Unknown("no interactive accounts were found in " + f.AccountsSource + ", so none could be checked")
		r.Evidence = ev
		r.Remediation = unknownRemediation(in.OS)
		return r
	}
	set, locked := 0, 0
	for _, a := range f.Accounts {
		switch {
		case disabled(a, at), a.Password == PasswordLocked:
			locked++
		case a.Password == PasswordSet:
			set++
		default:
			// A state the collector could not name is no evidence.
			r := checks.Unknown(fmt.Sprintf("the password state of %s is %s", a.Name, a.Password))
			r.Evidence = ev
			r.Remediation = unknownRemediation(in.OS)
			return r
		}
	}
	if set == 0 {
		// Every account locked or disabled (a fresh debootstrap root, a
		// machine reached only by SSH keys): no account shows that signing
		// in asks for a password, and people sign in some other way that
		// was not read. Nothing positive was seen, so it cannot pass.
		r := checks.Unknown(fmt.Sprintf("no interactive account has a password (%d locked or disabled in %s), so nothing shows that signing in needs one", locked, f.AccountsSource))
		r.Evidence = ev
		r.Remediation = noPasswordRemediation(in.OS)
		return r
	}
	return checks.Result{
		Status:   checks.StatusPass,
		Summary:  fmt.Sprintf("no automatic sign-in; %d interactive account(s) with a password, %d locked or disabled, none without a password", set, locked),
		Evidence: ev,
	}
}

func disabled(a Account, at time.Time) bool {
	if a.Disabled {
		return true
	}
	// Compared in days: a day number from shadow times 86400 can wrap
	// negative and would make any account look expired.
	// -1 is shadow's "never expires" (facts from older agents kept it).
	return a.ExpiresDay != nil && *a.ExpiresDay != -1 && !at.IsZero() && *a.ExpiresDay <= at.Unix()/86400
}

func describeAuto(a AutoLogin) string {
	s := a.Mechanism
	if a.User != "" {
		s += " signs in " + a.User
	}
	s += " (" + a.Source + ")"
	if a.PasswordStored {
		s += ", password stored"
	}
	return s
}

func describeAccount(a Account, at time.Time) string {
	s := fmt.Sprintf("%s (%s): password %s", a.Name, a.ID, a.Password)
	if disabled(a, at) {
		s += ", disabled"
	}
	return s + " [" + a.Source + "]"
}

func blankPhrase(goos string, names []string) string {
	if goos == "windows" {
		return "enabled account(s) without a required password: " + strings.Join(names, ", ")
	}
	return "enabled account(s) with no password: " + strings.Join(names, ", ")
}

func orNone(s []string) any {
	if len(s) == 0 {
		return "none"
	}
	return s
}

func remediation(goos string, auto bool, blank []string) string {
	var parts []string
	switch goos {
	case "windows":
		if auto {
			parts = append(parts, "Turn off automatic sign-in: set HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon AutoAdminLogon to 0 and delete DefaultPassword (or run Sysinternals Autologon and click Disable).")
		}
		if len(blank) > 0 {
			parts = append(parts, fmt.Sprintf("Give %s a password and require one: run `net user %s *` then `net user %s /passwordreq:yes` as administrator, or disable the account.", blank[0], blank[0], blank[0]))
		}
	case "darwin":
		if auto {
			parts = append(parts, "Turn off automatic login: System Settings > Users & Groups > Automatically log in as: Off.")
		}
		if len(blank) > 0 {
			parts = append(parts, fmt.Sprintf("Set a password for %s in System Settings > Users & Groups (or run `sudo passwd %s`).", blank[0], blank[0]))
		}
	default:
		if auto {
			parts = append(parts, "Turn off automatic login in Settings > Users (GNOME) or System Settings > Login Screen (KDE), or remove the autologin line from the display manager's configuration named above.")
		}
		if len(blank) > 0 {
			parts = append(parts, fmt.Sprintf("Set a password for %s with `sudo passwd %s`, or lock the account with `sudo passwd -l %s`.", blank[0], blank[0], blank[0]))
		}
	}
	return strings.Join(parts, " ")
}

func unknownRemediation(goos string) string {
	switch goos {
	case "windows":
		return "Run the Postern agent as the SYSTEM service so that it can read the sign-in settings."
	case "darwin":
		return "Run the Postern agent as root (its launch daemon) so that it can read the local accounts."
	}
	return "Run the Postern agent as root (its system service) so that it can read /etc/shadow."
}

// noPasswordRemediation is for a machine whose accounts are all locked:
// the way people sign in is somewhere the agent does not look.
func noPasswordRemediation(goos string) string {
	switch goos {
	case "windows":
		return "Give the account people sign in with a password (`net user NAME *` as administrator) and enable it."
	case "darwin":
		return "Give the account people sign in with a password in System Settings > Users & Groups."
	}
	return "Give the account people sign in with a password with `sudo passwd NAME`."
}
