//go:build windows

package secdir

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Restrict gives path a protected ACL (see SDDL) after checking that it is
// owned by SYSTEM, Administrators or the user running the agent.
func Restrict(path string, usersRead bool) error {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return fmt.Errorf("restrict %s: who am I: %w", path, err)
	}
	cur, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("restrict %s: read owner: %w", path, err)
	}
	owner, _, err := cur.Owner()
	if err != nil {
		return fmt.Errorf("restrict %s: read owner: %w", path, err)
	}
	if !owner.IsWellKnown(windows.WinLocalSystemSid) && !owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) && !owner.Equals(user.User.Sid) {
		return fmt.Errorf("restrict %s: owned by %s, not by SYSTEM, Administrators or this user: refusing a folder someone else made", path, owner)
	}
	sddl, err := SDDL(user.User.Sid.String(), usersRead)
	if err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("restrict %s: set ACL: %w", path, err)
	}
	return nil
}
