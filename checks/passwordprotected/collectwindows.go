package passwordprotected

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	winlogonKey   = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	userAccountNS = `root\cimv2`
	// userAccountQuery lists the local accounts only: domain accounts are
	// governed by the domain, and listing them can take minutes.
	userAccountQuery = "SELECT Name, SID, Disabled, PasswordRequired FROM Win32_UserAccount WHERE LocalAccount=TRUE"
)

func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{AutoLogins: []AutoLogin{}, AutoLoginSources: []string{winlogonKey}, Accounts: []Account{}}
	winlogon(h, f)
	rows, err := h.WMI(ctx, userAccountNS, userAccountQuery)
	if err != nil {
		f.Unreadable = append(f.Unreadable, "list the local accounts (Win32_UserAccount): "+err.Error())
		return f, nil
	}
	f.AccountsSource = "WMI Win32_UserAccount (LocalAccount=TRUE): Disabled, PasswordRequired"
	for _, r := range rows {
		name, _ := r["Name"].(string)
		sid, _ := r["SID"].(string)
		dis, okD := r["Disabled"].(bool)
		req, okR := r["PasswordRequired"].(bool)
		a := Account{Name: name, ID: sid, Disabled: dis, Source: "Win32_UserAccount"}
		switch {
		case !okD || !okR:
			a.Password = PasswordUnknown
			f.Unreadable = append(f.Unreadable, "Win32_UserAccount did not give Disabled and PasswordRequired for "+name)
		case req:
			a.Password = PasswordSet
		default:
			a.Password = PasswordNotRequired
		}
		f.addAccount(a)
	}
	return f, nil
}

// winlogon reads AutoAdminLogon and whether DefaultPassword exists. The
// password's value is read by the registry call but never kept.
func winlogon(h host.Host, f *Facts) {
	v, err := h.Registry(winlogonKey, "AutoAdminLogon")
	switch {
	case errors.Is(err, host.ErrNotFound):
		return
	case err != nil:
		f.Unreadable = append(f.Unreadable, fmt.Sprintf("read %s AutoAdminLogon: %v", winlogonKey, err))
		return
	}
	on := strings.TrimSpace(v.String) == "1" || (v.Type == "REG_DWORD" && v.Integer == 1)
	if !on {
		return
	}
	a := AutoLogin{Mechanism: "winlogon", Source: winlogonKey + ` AutoAdminLogon = 1`}
	if u, err := h.Registry(winlogonKey, "DefaultUserName"); err == nil {
		a.User = u.String
		if d, err := h.Registry(winlogonKey, "DefaultDomainName"); err == nil && d.String != "" {
			a.User = d.String + `\` + u.String
		}
	}
	if p, err := h.Registry(winlogonKey, "DefaultPassword"); err == nil {
		a.PasswordStored = p.String != "" || len(p.Binary) > 0
	}
	f.AutoLogins = append(f.AutoLogins, a)
}
