package users

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Password rules of Policy 550.04 C.6.
const (
	MinPasswordLen = 8
	// MaxPasswordLen bounds the input hashed on every sign-in.
	MaxPasswordLen = 256
	MinClasses     = 3
	MaxPasswordAge = 90 * 24 * time.Hour
	RemindBefore   = 14 * 24 * time.Hour
	// HistorySize is how many recent passwords, the current one included,
	// cannot be chosen again.
	HistorySize = 6
	// LockAfter consecutive failures lock the account.
	LockAfter = 5
	// minNameLen is the shortest name part checked for: shorter ones
	// ("Li", "Al") would forbid too many ordinary passwords.
	minNameLen = 3
)

// ErrPasswordReused is returned when a new password is one of the last
// HistorySize.
var ErrPasswordReused = errors.New("the password was used recently; choose one not among your last 6")

// RuleError lists every password rule a candidate breaks, in words for
// the user.
type RuleError struct{ Problems []string }

func (e *RuleError) Error() string { return "password rejected: " + strings.Join(e.Problems, "; ") }

// Identity is what a password must not contain.
type Identity struct {
	Username, FirstName, LastName string
}

// CheckRules returns a *RuleError naming every rule pw breaks, or nil.
// History is checked separately, since it needs the stored hashes.
func CheckRules(pw string, id Identity) error {
	var problems []string
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		problems = append(problems, fmt.Sprintf("use at least %d characters", MinPasswordLen))
	}
	if len(pw) > MaxPasswordLen {
		problems = append(problems, fmt.Sprintf("use at most %d bytes", MaxPasswordLen))
	}
	if c := classes(pw); c < MinClasses {
		problems = append(problems, "mix at least 3 of: lowercase letters, uppercase letters, digits, symbols")
	}
	lower := strings.ToLower(pw)
	for _, part := range nameParts(id) {
		if strings.Contains(lower, part) {
			problems = append(problems, "do not include your name or user name")
			break
		}
	}
	if len(problems) > 0 {
		return &RuleError{Problems: problems}
	}
	return nil
}

func classes(pw string) int {
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// nameParts returns the lowercased names and their words (a first name
// "Mary Ann" forbids "mary" and "ann" as well as "mary ann").
func nameParts(id Identity) []string {
	var out []string
	for _, s := range []string{id.FirstName, id.LastName, id.Username} {
		s = strings.ToLower(strings.TrimSpace(s))
		cands := append([]string{s}, strings.FieldsFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})...)
		for _, c := range cands {
			if utf8.RuneCountInString(c) >= minNameLen {
				out = append(out, c)
			}
		}
	}
	return out
}

// Age describes where a password stands in its 90-day life.
type Age struct {
	Expired bool
	// Remind is true within RemindBefore of expiry.
	Remind bool
	// ExpiresAt is when the password must have been changed.
	ExpiresAt time.Time
}

// PasswordAge returns the state of a password changed at changedAt.
func PasswordAge(changedAt, now time.Time) Age {
	exp := changedAt.Add(MaxPasswordAge)
	return Age{Expired: !now.Before(exp), Remind: !now.Before(exp.Add(-RemindBefore)), ExpiresAt: exp}
}

// TemporaryPassword returns 20 random characters with all four classes,
// in random positions, without look-alike characters: the first password
// of a new account, which its user must replace at first sign-in.
func TemporaryPassword() (string, error) {
	sets := []string{"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "-_.+!"}
	all := strings.Join(sets, "")
	out := make([]byte, 20)
	for i := range out {
		set := all
		if i < len(sets) {
			set = sets[i]
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i] = set[n.Int64()]
	}
	// Shuffle so that the class of each position is not fixed.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}
