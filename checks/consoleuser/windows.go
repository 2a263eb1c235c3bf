package consoleuser

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Where Windows keeps the console user and their profile.
const (
	wmiCIMv2        = `root\cimv2`
	queryConsole    = "SELECT UserName FROM Win32_ComputerSystem"
	logonUIKey      = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`
	profileListKey  = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`
	sourceWMIUser   = "Win32_ComputerSystem.UserName"
	sourceLogonUI   = logonUIKey + " LastLoggedOnUserSID"
	sourceUserAcct  = "Win32_UserAccount.SID"
	sessionConsole  = "console"
	windowsNameRule = `^[^\\/"\[\]:|<>+=;,?*@]{1,256}$`
)

var (
	sidRE         = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+){1,15}$`)
	windowsNameRE = regexp.MustCompile(windowsNameRule)
)

func findWindows(ctx context.Context, h host.Host) (User, error) {
	rows, err := h.WMI(ctx, wmiCIMv2, queryConsole)
	if err != nil {
		return User{}, fmt.Errorf("query %s: %w", sourceWMIUser, err)
	}
	var name string
	for _, r := range rows {
		if s, ok := r["UserName"].(string); ok && s != "" {
			name = s
			break
		}
	}
	if name == "" {
		return User{}, fmt.Errorf("%w: %s is empty (the sign-in screen is showing, or only remote desktop sessions are open)", ErrNoConsoleUser, sourceWMIUser)
	}
	domain, account, ok := strings.Cut(name, `\`)
	if !ok || !windowsNameRE.MatchString(domain) || !windowsNameRE.MatchString(account) {
		return User{}, fmt.Errorf("find the console user: %s %q is not DOMAIN\\name", sourceWMIUser, name)
	}
	u := User{Name: name, SessionType: sessionConsole}
	sid, src, err := windowsSID(ctx, h, domain, account)
	if err != nil {
		return User{}, err
	}
	u.ID, u.Source = sid, sourceWMIUser+", "+src
	if v, err := h.Registry(profileListKey+`\`+sid, "ProfileImagePath"); err == nil && v.String != "" {
		u.Home = v.String
	}
	return u, nil
}

// windowsSID finds the console user's SID: the LogonUI key records the
// last user to sign in with their SID, which is the console user when its
// SAM name matches; otherwise WMI looks the account up.
func windowsSID(ctx context.Context, h host.Host, domain, account string) (sid, source string, err error) {
	sam, errSAM := h.Registry(logonUIKey, "LastLoggedOnSAMUser")
	v, errSID := h.Registry(logonUIKey, "LastLoggedOnUserSID")
	if errSAM == nil && errSID == nil && strings.EqualFold(strings.TrimPrefix(sam.String, `.\`), domain+`\`+account) && sidRE.MatchString(v.String) {
		return v.String, sourceLogonUI, nil
	}
	q := fmt.Sprintf("SELECT SID FROM Win32_UserAccount WHERE Domain = '%s' AND Name = '%s'", wqlEscape(domain), wqlEscape(account))
	rows, err := h.WMI(ctx, wmiCIMv2, q)
	if err != nil {
		return "", "", fmt.Errorf("find the SID of %s\\%s: %w", domain, account, err)
	}
	for _, r := range rows {
		if s, ok := r["SID"].(string); ok && sidRE.MatchString(s) {
			return s, sourceUserAcct, nil
		}
	}
	return "", "", fmt.Errorf("find the SID of %s\\%s: %w (not in %s nor %s)", domain, account, errNoSID, logonUIKey, sourceUserAcct)
}

var errNoSID = errors.New("no SID recorded")

// wqlEscape escapes a string for a single-quoted WQL literal.
func wqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}
