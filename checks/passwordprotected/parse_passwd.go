package passwordprotected

import (
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	name   string
	pwd    string // "x" when the password is in /etc/shadow
	uid    int
	shell  string
	lineNo int
}

// parsePasswd reads passwd(5) lines; malformed lines and NIS "+" entries
// are skipped.
func parsePasswd(b []byte) []passwdEntry {
	var out []passwdEntry
	n := 0
	for line := range textlines.Each(b) {
		n++
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 7 {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil || uid < 0 {
			continue
		}
		out = append(out, passwdEntry{name: f[0], pwd: f[1], uid: uid, shell: f[6], lineNo: n})
	}
	return out
}

// shadowEntry is the part of a shadow(5) line this control needs: never
// the hash itself.
type shadowEntry struct {
	state string // PasswordSet, PasswordNone or PasswordLocked
	// expires is the account expiry in days since the epoch, if set
	// (never -1, which means it never expires).
	expires *int64
	// maxDays is the password's maximum age (-1 when the field is empty).
	maxDays int
}

// parseShadow maps each account to the state of its password field.
func parseShadow(b []byte) map[string]shadowEntry {
	out := map[string]shadowEntry{}
	for line := range textlines.Each(b) {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 {
			continue
		}
		e := shadowEntry{state: passwordState(f[1]), maxDays: -1}
		if len(f) > 4 && f[4] != "" {
			if v, err := strconv.Atoi(f[4]); err == nil {
				e.maxDays = v
			}
		}
		// -1 is how glibc reads an empty field and pam_unix treats it
		// the same: the account never expires.
		if len(f) > 7 && f[7] != "" {
			if v, err := strconv.ParseInt(f[7], 10, 64); err == nil && v != -1 {
				e.expires = &v
			}
		}
		out[f[0]] = e
	}
	return out
}

// passwordState classifies a crypt(5) password field without keeping it:
// empty means no password, a leading ! or * means locked (pam_unix
// refuses any password), anything else is a hash.
func passwordState(field string) string {
	switch {
	case field == "":
		return PasswordNone
	case field[0] == '!' || field[0] == '*':
		return PasswordLocked
	}
	return PasswordSet
}

// nonLoginShells are shells that refuse an interactive session.
var nonLoginShells = map[string]bool{
	"nologin": true, "false": true, "sync": true, "shutdown": true, "halt": true, "true": true,
}

// interactiveShell reports whether shell gives a login session; an empty
// shell means /bin/sh.
func interactiveShell(shell string) bool {
	if shell == "" {
		return true
	}
	return !nonLoginShells[path.Base(strings.TrimSpace(shell))]
}

// loginDefs reads login.defs(5) KEY VALUE pairs; later lines win.
func loginDefs(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(strings.Join(strings.Fields(line), " "), " ")
		if !ok {
			continue
		}
		out[k] = strings.Trim(v, `"`)
	}
	return out
}

// uidRange returns UID_MIN and UID_MAX from login.defs, defaulting to
// shadow-utils' 1000 and 60000.
func uidRange(defs map[string]string) (lo, hi int) {
	lo, hi = 1000, 60000
	if v, err := strconv.Atoi(defs["UID_MIN"]); err == nil && v > 0 {
		lo = v
	}
	if v, err := strconv.Atoi(defs["UID_MAX"]); err == nil && v > lo {
		hi = v
	}
	return lo, hi
}
