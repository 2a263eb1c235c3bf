package passwordpolicy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	pamDir            = "/etc/pam.d/"
	pwqualityConf     = "/etc/security/pwquality.conf"
	pwqualityConfDir  = "/etc/security/pwquality.conf.d/*.conf"
	faillockConf      = "/etc/security/faillock.conf"
	pwhistoryConf     = "/etc/security/pwhistory.conf"
	loginDefsPath     = "/etc/login.defs"
	shadowPath        = "/etc/shadow"
	passwdPath        = "/etc/passwd"
	pamUnixMinDefault = 6
	// maxIncludeDepth bounds @include chains.
	maxIncludeDepth = 4
)

// passwordStacks are where distributions keep the rules applied when a
// password changes (Debian/Ubuntu/SUSE, then Fedora/RHEL/Arch); authStacks
// hold the sign-in rules where lockout is configured.
var (
	passwordStacks = []string{"common-password", "system-auth", "password-auth"}
	authStacks     = []string{"common-auth", "system-auth", "password-auth"}
)

// linuxCollector keeps what one collection read.
type linuxCollector struct {
	h host.Host
	f *Facts
}

func collectLinux(_ context.Context, h host.Host) (*Facts, error) {
	c := &linuxCollector{h: h, f: &Facts{Sources: []string{}}}
	pwFile, pw, err := c.stack(passwordStacks)
	if err != nil {
		return nil, fmt.Errorf("read the PAM password stack: %w", err)
	}
	c.content(pwFile, pw)
	c.history(pwFile, pw)
	authFile, auth, err := c.stack(authStacks)
	if err != nil {
		return nil, fmt.Errorf("read the PAM auth stack: %w", err)
	}
	c.lockout(authFile, auth)
	c.maxAge()
	if _, ok := find(pw, "password", "pam_sss.so", "pam_winbind.so", "pam_krb5.so"); ok {
		c.note("directory accounts (pam_sss, pam_winbind or pam_krb5) follow the directory's own password policy, which is not visible on this machine")
	}
	return c.f, nil
}

func (c *linuxCollector) note(s string) { c.f.Notes = append(c.f.Notes, s) }

// stack reads the first existing file of names with its includes.
func (c *linuxCollector) stack(names []string) (string, []pamLine, error) {
	for _, n := range names {
		lines, err := c.pamFile(n, 0)
		if errors.Is(err, host.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return pamDir + n, lines, nil
	}
	return "", nil, fmt.Errorf("none of %s exists in %s: %w", strings.Join(names, ", "), pamDir, host.ErrNotFound)
}

func (c *linuxCollector) pamFile(name string, depth int) ([]pamLine, error) {
	p := name
	if !strings.HasPrefix(p, "/") {
		p = pamDir + name
	}
	b, err := c.h.ReadFile(p)
	if err != nil {
		return nil, err
	}
	c.f.Sources = append(c.f.Sources, p)
	var out []pamLine
	for _, l := range parsePAM(b) {
		if l.include == "" {
			out = append(out, l)
			continue
		}
		if depth >= maxIncludeDepth {
			continue
		}
		inc, err := c.pamFile(l.include, depth+1)
		if err != nil && !errors.Is(err, host.ErrNotFound) {
			return nil, err
		}
		out = append(out, inc...)
	}
	return out, nil
}

// content sets the minimum length and classes from pam_pwquality or
// pam_cracklib (configuration files, then the module's arguments) and
// pam_unix's own minimum length.
func (c *linuxCollector) content(file string, lines []pamLine) {
	unixMin, unixSrc := 0, ""
	if u, ok := find(lines, "password", "pam_unix.so"); ok {
		unixMin, unixSrc = pamUnixMinDefault, "pam_unix default minlen in "+file
		if n, ok := intArg(u.args, "minlen"); ok {
			unixMin, unixSrc = n, "pam_unix minlen in "+file
		}
	}
	l, ok := find(lines, "password", "pam_pwquality.so", "pam_cracklib.so")
	if !ok {
		if unixMin == 0 {
			c.f.MinLength = unknown("no pam_pwquality, pam_cracklib or pam_unix in " + file)
		} else {
			c.f.MinLength = known(unixMin, unixSrc)
		}
		c.f.MinClasses = known(0, "no pam_pwquality or pam_cracklib in "+file)
		return
	}
	q := crackLibDefaults()
	if l.module == "pam_pwquality.so" {
		q = pwqualityDefaults()
		c.pwqualityFiles(&q)
	}
	kv := map[string]string{}
	for _, a := range l.args {
		k, v, _ := strings.Cut(a, "=")
		kv[k] = v
	}
	q.apply(kv, l.module+" arguments in "+file)
	mod := strings.TrimSuffix(l.module, ".so")
	if !q.enforcing {
		c.note(mod + " has enforcing=0: it only warns about weak passwords")
		c.f.MinLength = known(unixMin, "not enforced: "+mod+" enforcing=0 ("+q.set["enforcing"]+")")
		c.f.MinClasses = known(0, "not enforced: "+mod+" enforcing=0 ("+q.set["enforcing"]+")")
		return
	}
	n := q.effectiveLength()
	src := mod + ": " + q.describe("minlen", "dcredit", "ucredit", "lcredit", "ocredit")
	if unixMin > n {
		n, src = unixMin, unixSrc
	}
	c.f.MinLength = known(n, src)
	c.f.MinClasses = known(q.requiredClasses(), mod+": "+q.describe("minclass", "dcredit", "ucredit", "lcredit", "ocredit"))
}

// pwqualityFiles applies pwquality.conf.d/*.conf in name order, then
// pwquality.conf, which wins (pwquality.conf(5)).
func (c *linuxCollector) pwqualityFiles(q *quality) {
	files, err := c.h.Glob(pwqualityConfDir)
	if err != nil && !errors.Is(err, host.ErrNotFound) {
		c.note(fmt.Sprintf("list %s: %v", pwqualityConfDir, err))
	}
	for _, p := range append(files, pwqualityConf) {
		b, err := c.h.ReadFile(p)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				c.note(fmt.Sprintf("read %s: %v", p, err))
			}
			continue
		}
		c.f.Sources = append(c.f.Sources, p)
		kv := map[string]string{}
		parseKeyValue(b, kv)
		q.apply(kv, p)
	}
}

// history takes the larger of pam_pwhistory's and pam_unix's remember.
func (c *linuxCollector) history(file string, lines []pamLine) {
	best := known(0, "no pam_pwhistory and no pam_unix remember= in "+file)
	if l, ok := find(lines, "password", "pam_pwhistory.so"); ok {
		n, src := 10, "pam_pwhistory default remember in "+file
		// conf= moves the file (pam_pwhistory(8), PAM 1.5.1 and later).
		conf := pwhistoryConf
		if v, ok := arg(l.args, "conf"); ok && v != "" {
			conf = v
		}
		if b, err := c.h.ReadFile(conf); err == nil {
			c.f.Sources = append(c.f.Sources, conf)
			kv := map[string]string{}
			parseKeyValue(b, kv)
			if v, err := strconv.Atoi(kv["remember"]); err == nil {
				n, src = v, conf+" remember"
			}
		}
		if v, ok := intArg(l.args, "remember"); ok {
			n, src = v, "pam_pwhistory remember in "+file
		}
		best = known(n, src)
	}
	if l, ok := find(lines, "password", "pam_unix.so"); ok {
		if v, ok := intArg(l.args, "remember"); ok && v > best.Value {
			best = known(v, "pam_unix remember in "+file)
		}
	}
	c.f.History = best
}

// lockout reads pam_faillock or pam_tally2/pam_tally (deny=, else never).
func (c *linuxCollector) lockout(file string, lines []pamLine) {
	if _, ok := find(lines, "auth", "pam_faillock.so"); ok {
		c.faillock(file, lines)
		return
	}
	if l, ok := find(lines, "auth", "pam_tally2.so", "pam_tally.so"); ok {
		n, src := 0, strings.TrimSuffix(l.module, ".so")+" without deny= in "+file
		if v, ok := intArg(l.args, "deny"); ok {
			n, src = v, strings.TrimSuffix(l.module, ".so")+" deny in "+file
		}
		c.f.LockoutThreshold = known(n, src)
		return
	}
	c.f.LockoutThreshold = known(0, "no pam_faillock or pam_tally2 in "+file)
}

// faillock judges pam_faillock's auth rules. Each rule does one thing, the
// last of preauth, authfail and authsucc in its arguments (preauth when
// none, pam_faillock(8)): only authfail records a failure, and only preauth
// or authsucc refuse a locked account whose password is right. A stack
// that lacks either half never locks anyone, whatever deny says. The deny
// judged is the refusing rule's: its argument, else its conf= file (or
// /etc/security/faillock.conf), else 3.
func (c *linuxCollector) faillock(file string, lines []pamLine) {
	var record, refuse *pamLine
	for i, l := range lines {
		if l.typ != "auth" || l.module != "pam_faillock.so" {
			continue
		}
		action := "preauth"
		for _, a := range l.args {
			if a == "preauth" || a == "authfail" || a == "authsucc" {
				action = a
			}
		}
		switch {
		case action == "authfail" && record == nil:
			record = &lines[i]
		case action != "authfail" && refuse == nil:
			refuse = &lines[i]
		}
	}
	switch {
	case record == nil:
		c.note("pam_faillock in " + file + " has no authfail rule: failures are never counted, so no account ever locks")
		c.f.LockoutThreshold = known(0, "pam_faillock without authfail in "+file+" (failures not recorded)")
		return
	case refuse == nil:
		c.note("pam_faillock in " + file + " has no preauth or authsucc rule: a locked account still signs in with the right password")
		c.f.LockoutThreshold = known(0, "pam_faillock without preauth or authsucc in "+file+" (locks not enforced)")
		return
	}
	conf := faillockConf
	if v, ok := arg(refuse.args, "conf"); ok && v != "" {
		conf = v
	}
	n, src := 3, "pam_faillock default deny in "+file
	if b, err := c.h.ReadFile(conf); err == nil {
		c.f.Sources = append(c.f.Sources, conf)
		kv := map[string]string{}
		parseKeyValue(b, kv)
		if v, err := strconv.Atoi(kv["deny"]); err == nil {
			n, src = v, conf+" deny"
		}
	} else if conf != faillockConf || !errors.Is(err, host.ErrNotFound) {
		// pam_faillock refuses every sign-in when a conf= file is missing,
		// so what it would count is not knowable either.
		c.f.LockoutThreshold = unknown(fmt.Sprintf("read %s: %v", conf, err))
		return
	}
	if v, ok := intArg(refuse.args, "deny"); ok {
		n, src = v, "pam_faillock deny in "+file
	}
	c.f.LockoutThreshold = known(n, src)
}

// maxAge reads PASS_MAX_DAYS (the default for new accounts) and, where
// /etc/shadow is readable, the maximum age of each interactive account's
// current password, which is what actually applies; the longest wins.
func (c *linuxCollector) maxAge() {
	defs := map[string]string{}
	if b, err := c.h.ReadFile(loginDefsPath); err == nil {
		c.f.Sources = append(c.f.Sources, loginDefsPath)
		defs = parseLoginDefs(b)
	} else if !errors.Is(err, host.ErrNotFound) {
		c.f.MaxAgeDays = unknown(fmt.Sprintf("read %s: %v", loginDefsPath, err))
		return
	}
	policy := known(0, loginDefsPath+" has no PASS_MAX_DAYS (passwords never expire)")
	if v, err := strconv.Atoi(defs["PASS_MAX_DAYS"]); err == nil {
		policy = known(max(v, 0), loginDefsPath+" PASS_MAX_DAYS")
	}
	c.f.MaxAgeDays = policy
	worst, who, err := c.accountMaxAge(defs)
	switch {
	case err != nil:
		c.f.MaxAgeDays.Detail = "existing accounts not checked: " + err.Error()
	case who == "":
		c.f.MaxAgeDays.Detail = "no account with a password to check in " + shadowPath
	default:
		// Each account's own maximum age (the fifth field of shadow(5)) is
		// what expires its password; PASS_MAX_DAYS only seeds new
		// accounts, so the accounts' value is judged, in both directions.
		c.f.MaxAgeDays = known(worst, shadowPath+" maximum age of "+who+" (the longest of the accounts with a password)")
		c.f.MaxAgeDays.Detail = fmt.Sprintf("not judged: the default for new accounts is %d (%s)", policy.Value, policy.Source)
	}
}

// accountMaxAge returns the longest maximum age (0 = never) among
// accounts of UID_MIN-UID_MAX or root that have a password, and which.
func (c *linuxCollector) accountMaxAge(defs map[string]string) (int, string, error) {
	sh, err := c.h.ReadFile(shadowPath)
	if err != nil {
		if errors.Is(err, host.ErrPermission) {
			return 0, "", fmt.Errorf("reading %s needs root", shadowPath)
		}
		return 0, "", fmt.Errorf("read %s: %w", shadowPath, err)
	}
	pw, err := c.h.ReadFile(passwdPath)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", passwdPath, err)
	}
	c.f.Sources = append(c.f.Sources, shadowPath)
	lo, hi := 1000, 60000
	if v, err := strconv.Atoi(defs["UID_MIN"]); err == nil && v > 0 {
		lo = v
	}
	if v, err := strconv.Atoi(defs["UID_MAX"]); err == nil && v > lo {
		hi = v
	}
	people := map[string]bool{}
	for _, line := range strings.Split(string(pw), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), ":")
		if len(f) < 7 {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		shell := path.Base(f[6])
		if err == nil && (uid == 0 || (uid >= lo && uid <= hi)) && shell != "nologin" && shell != "false" {
			people[f[0]] = true
		}
	}
	worst, who := -1, ""
	for _, line := range strings.Split(string(sh), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), ":")
		if len(f) < 5 || !people[f[0]] || f[1] == "" || f[1][0] == '!' || f[1][0] == '*' {
			continue
		}
		days := 0 // an empty or -1 field: never expires
		if v, err := strconv.Atoi(f[4]); err == nil && v > 0 {
			days = v
		}
		if worst == -1 || (worst != 0 && (days == 0 || days > worst)) {
			worst, who = days, f[0]
		}
	}
	if who == "" {
		return 0, "", nil
	}
	return worst, who, nil
}
