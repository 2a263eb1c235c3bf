package passwordprotected

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/internal/plistval"
)

// maxPBKDF2Iterations bounds the work of testing one account for a blank
// password; macOS uses tens of thousands.
const maxPBKDF2Iterations = 2_000_000

// dslocalUser is the part of a /var/db/dslocal/nodes/Default/users/*.plist
// record this control reads; every attribute is an array.
type dslocalUser struct {
	Name       []string `plist:"name"`
	UID        []string `plist:"uid"`
	Shell      []string `plist:"shell"`
	AuthAuth   []string `plist:"authentication_authority"`
	ShadowHash [][]byte `plist:"ShadowHashData"`
}

// shadowHash is the inner ShadowHashData plist.
type shadowHash struct {
	PBKDF2 *struct {
		Entropy    []byte `plist:"entropy"`
		Salt       []byte `plist:"salt"`
		Iterations int    `plist:"iterations"`
	} `plist:"SALTED-SHA512-PBKDF2"`
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// macPasswordState classifies a user record: a DisabledUser authority is
// disabled, a ShadowHashData that is PBKDF2 of the empty string is no
// password, any other hash is set, and no hash at all cannot sign in with
// a local password (directory accounts authenticate elsewhere).
func macPasswordState(u dslocalUser) (state string, disabled bool, source string, err error) {
	auth := strings.Join(u.AuthAuth, " ")
	disabled = strings.Contains(auth, ";DisabledUser;")
	if len(u.ShadowHash) == 0 {
		if strings.Contains(auth, ";LocalCachedUser;") || strings.Contains(auth, ";Kerberosv5;") && !strings.Contains(auth, ";ShadowHash;") {
			return PasswordSet, disabled, "directory account (authentication_authority)", nil
		}
		return PasswordLocked, disabled, "no ShadowHashData", nil
	}
	var sh shadowHash
	if _, err := plistval.Unmarshal(u.ShadowHash[0], &sh); err != nil {
		return PasswordUnknown, disabled, "ShadowHashData", fmt.Errorf("decode ShadowHashData: %w", err)
	}
	if sh.PBKDF2 == nil || len(sh.PBKDF2.Entropy) == 0 {
		return PasswordSet, disabled, "ShadowHashData (no PBKDF2 entry to test)", nil
	}
	p := sh.PBKDF2
	if p.Iterations <= 0 || p.Iterations > maxPBKDF2Iterations || len(p.Entropy) > 256 {
		return PasswordUnknown, disabled, "ShadowHashData", fmt.Errorf("ShadowHashData has %d iterations, outside 1-%d", p.Iterations, maxPBKDF2Iterations)
	}
	key, err := pbkdf2.Key(sha512.New, "", p.Salt, p.Iterations, len(p.Entropy))
	if err != nil {
		return PasswordUnknown, disabled, "ShadowHashData", fmt.Errorf("test ShadowHashData: %w", err)
	}
	if subtle.ConstantTimeCompare(key, p.Entropy) == 1 {
		return PasswordNone, disabled, "ShadowHashData is the hash of an empty password", nil
	}
	return PasswordSet, disabled, "ShadowHashData", nil
}

// parseDSLocalUser decodes one user record (binary or XML plist).
func parseDSLocalUser(b []byte) (dslocalUser, error) {
	var u dslocalUser
	_, err := plistval.Unmarshal(bytes.TrimSpace(b), &u)
	return u, err
}
