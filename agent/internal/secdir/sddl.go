package secdir

import (
	"fmt"
	"regexp"
)

var sidPattern = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+)+$`)

// SDDL returns the protected DACL for a folder: full control (inherited by
// everything inside) for SYSTEM, Administrators and userSID; with
// usersRead, read and execute for the local Users group too. It is
// portable so that the string is tested on any OS.
func SDDL(userSID string, usersRead bool) (string, error) {
	if !sidPattern.MatchString(userSID) {
		return "", fmt.Errorf("secdir: %q is not a SID", userSID)
	}
	s := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;" + userSID + ")"
	if usersRead {
		s += "(A;OICI;GRGX;;;BU)"
	}
	return s, nil
}
