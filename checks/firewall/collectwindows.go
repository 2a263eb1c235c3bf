package firewall

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/wmirow"
)

// Windows sources.
const (
	policyKey        = `HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\`
	localKey         = `HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\`
	mdmKey           = localKey + `Mdm\`
	mpssvcKey        = `HKLM\SYSTEM\CurrentControlSet\Services\mpssvc`
	currentVersion   = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion`
	currentVersionNT = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	standardCimv2    = `root\StandardCimv2`
	cimv2            = `root\CIMV2`
	securityCenter   = `root\SecurityCenter2`
	fwProfileQuery   = "SELECT Name, Enabled, DefaultInboundAction, DisabledInterfaceAliases FROM MSFT_NetFirewallProfile"
	connProfileQuery = "SELECT NetworkCategory FROM MSFT_NetConnectionProfile"
	serviceQuery     = "SELECT Name, State, StartMode FROM Win32_Service WHERE Name='mpssvc'"
	fwProductQuery   = "SELECT * FROM FirewallProduct"
	// wmiTimeout allows for PowerShell's start-up on a busy laptop.
	wmiTimeout = 30 * time.Second
)

// profileKeys names each profile's registry subkey under the policy and
// the local store; the local store calls Private "StandardProfile".
var profileKeys = []struct{ name, policy, local string }{
	{ProfileDomain, "DomainProfile", "DomainProfile"},
	{ProfilePrivate, "PrivateProfile", "StandardProfile"},
	{ProfilePublic, "PublicProfile", "PublicProfile"},
}

// collectWindows reads each profile from group policy and the local store
// in the registry, confirms the local store with MSFT_NetFirewallProfile,
// and adds the active profiles, the service state and third-party
// firewalls registered with Security Center.
func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	w := &WindowsFacts{}
	wmiRows, wmiErr := queryWMI(ctx, h, standardCimv2, fwProfileQuery)
	if wmiErr != nil {
		w.Notes = append(w.Notes, "MSFT_NetFirewallProfile: "+wmiErr.Error())
	}
	byName := map[string]map[string]any{}
	for _, r := range wmiRows {
		byName[strings.ToLower(wmiString(r, "Name"))] = r
	}
	readable := wmiErr == nil && len(wmiRows) > 0
	for _, pk := range profileKeys {
		p := WindowsProfile{Name: pk.name}
		p.PolicyEnabled = regInt(h, w, policyKey+pk.policy, "EnableFirewall")
		p.PolicyInbound = regInt(h, w, policyKey+pk.policy, "DefaultInboundAction")
		p.LocalEnabled = regInt(h, w, localKey+pk.local, "EnableFirewall")
		p.LocalInbound = regInt(h, w, localKey+pk.local, "DefaultInboundAction")
		readMDMProfile(h, w, pk.local, pk.policy, &p)
		if row, ok := byName[strings.ToLower(pk.name)]; ok {
			if v, ok := wmiInt(row, "Enabled"); ok {
				p.WMIEnabled = &v
			}
			if v, ok := wmiInt(row, "DefaultInboundAction"); ok {
				p.WMIInbound = &v
			}
			if aliases, ok := wmirow.Strings(row, "DisabledInterfaceAliases"); ok {
				for _, a := range aliases {
					if a = strings.TrimSpace(a); a != "" && !strings.EqualFold(a, "NotConfigured") {
						p.DisabledInterfaces = append(p.DisabledInterfaces, a)
					}
				}
			}
		}
		if p.PolicyEnabled != nil || p.MDMEnabled != nil || p.LocalEnabled != nil || p.WMIEnabled != nil {
			readable = true
		}
		resolveProfile(&p)
		w.Profiles = append(w.Profiles, p)
	}
	if !readable {
		return nil, fmt.Errorf("read the Windows Firewall profiles: no registry value could be read and %v", orNoRows(wmiErr))
	}
	activeProfiles(ctx, h, w)
	serviceState(ctx, h, w)
	thirdParty(ctx, h, w)
	return &Facts{Source: "registry (group policy, MDM Firewall CSP, local firewall policy) + " + standardCimv2 + " MSFT_NetFirewallProfile", Windows: w}, nil
}

func orNoRows(err error) error {
	if err != nil {
		return err
	}
	return errors.New("MSFT_NetFirewallProfile returned no profiles")
}

// regInt reads a REG_DWORD; a value that is absent is nil, any other
// failure is noted.
func regInt(h host.Host, w *WindowsFacts, key, name string) *int64 {
	v, err := h.Registry(key, name)
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) {
			w.Notes = append(w.Notes, fmt.Sprintf(`%s\%s: %v`, key, name, err))
		}
		return nil
	}
	if v.Type != "REG_DWORD" && v.Type != "REG_QWORD" {
		w.Notes = append(w.Notes, fmt.Sprintf(`%s\%s is %s, not a DWORD`, key, name, v.Type))
		return nil
	}
	n := int64(v.Integer)
	return &n
}

// resolveProfile merges the sources: a group policy value wins, then an
// MDM one; otherwise the local registry value and WMI's view of the same
// store must agree.
func resolveProfile(p *WindowsProfile) {
	switch {
	case p.PolicyEnabled != nil:
		p.Enabled, p.EnabledSource = boolp(*p.PolicyEnabled != 0), fmt.Sprintf("group policy EnableFirewall=%d", *p.PolicyEnabled)
	case p.MDMEnabled != nil:
		p.Enabled, p.EnabledSource = boolp(*p.MDMEnabled != 0), fmt.Sprintf("MDM (Firewall CSP) EnableFirewall=%d", *p.MDMEnabled)
	default:
		reg, wmi := p.LocalEnabled, p.WMIEnabled
		var wmiOn *bool
		if wmi != nil {
			switch *wmi {
			case 0:
				wmiOn = boolp(false)
			case 1:
				wmiOn = boolp(true)
			}
		}
		switch {
		case reg != nil && wmiOn != nil && (*reg != 0) != *wmiOn:
			p.Reason = fmt.Sprintf("the local registry (EnableFirewall=%d) and MSFT_NetFirewallProfile (Enabled=%d) disagree", *reg, *wmi)
		case reg != nil:
			p.Enabled, p.EnabledSource = boolp(*reg != 0), fmt.Sprintf("local policy EnableFirewall=%d", *reg)
			if wmiOn != nil {
				p.EnabledSource += ", confirmed by MSFT_NetFirewallProfile"
			}
		case wmiOn != nil:
			p.Enabled, p.EnabledSource = wmiOn, fmt.Sprintf("MSFT_NetFirewallProfile Enabled=%d", *wmi)
		case wmi != nil && *wmi == 2:
			p.Enabled, p.EnabledSource = boolp(true), "MSFT_NetFirewallProfile Enabled=NotConfigured (the Windows default, on)"
		default:
			p.Reason = "no source holds the profile's on/off state"
		}
	}
	resolveInbound(p)
}

// resolveInbound finds the default inbound action; "not configured"
// anywhere means Windows' documented default, block.
func resolveInbound(p *WindowsProfile) {
	switch {
	case p.PolicyInbound != nil:
		p.InboundBlocked, p.InboundSource = boolp(*p.PolicyInbound != 0), fmt.Sprintf("group policy DefaultInboundAction=%d", *p.PolicyInbound)
	case p.MDMInbound != nil:
		p.InboundBlocked, p.InboundSource = boolp(*p.MDMInbound != 0), fmt.Sprintf("MDM (Firewall CSP) DefaultInboundAction=%d", *p.MDMInbound)
	case p.LocalInbound != nil:
		p.InboundBlocked, p.InboundSource = boolp(*p.LocalInbound != 0), fmt.Sprintf("local policy DefaultInboundAction=%d", *p.LocalInbound)
		if p.WMIInbound != nil && (*p.WMIInbound == 2) == (*p.LocalInbound != 0) {
			p.InboundBlocked, p.InboundSource = nil, ""
			p.Reason = fmt.Sprintf("the local registry (DefaultInboundAction=%d) and MSFT_NetFirewallProfile (DefaultInboundAction=%d) disagree", *p.LocalInbound, *p.WMIInbound)
		}
	case p.WMIInbound != nil && *p.WMIInbound == 2:
		p.InboundBlocked, p.InboundSource = boolp(false), "MSFT_NetFirewallProfile DefaultInboundAction=Allow"
	case p.WMIInbound != nil && *p.WMIInbound == 0:
		// What stock hosts report (Mondoo's captures of Windows Server
		// 2016-2025): no configured action, so the built-in block applies.
		p.InboundBlocked, p.InboundSource = boolp(true), "MSFT_NetFirewallProfile DefaultInboundAction=NotConfigured (the Windows default, block)"
	case p.WMIInbound != nil:
		p.InboundBlocked, p.InboundSource = boolp(true), fmt.Sprintf("MSFT_NetFirewallProfile DefaultInboundAction=%d (block)", *p.WMIInbound)
	default:
		p.InboundBlocked, p.InboundSource = boolp(true), "DefaultInboundAction not set (the Windows default, block)"
	}
}

func boolp(b bool) *bool { return &b }

func queryWMI(ctx context.Context, h host.Host, ns, q string) ([]map[string]any, error) {
	return wmirow.Query(ctx, h, ns, q, wmiTimeout, "the agent is not running as SYSTEM")
}

// networkCategories maps MSFT_NetConnectionProfile NetworkCategory.
var networkCategories = map[int64]string{0: ProfilePublic, 1: ProfilePrivate, 2: ProfileDomain}

func activeProfiles(ctx context.Context, h host.Host, w *WindowsFacts) {
	rows, err := queryWMI(ctx, h, standardCimv2, connProfileQuery)
	if err != nil {
		w.ActiveSource = "MSFT_NetConnectionProfile could not be read (" + err.Error() + "): every profile must be on"
		return
	}
	seen := map[string]bool{}
	active := []string{}
	for _, r := range rows {
		c, ok := wmiInt(r, "NetworkCategory")
		name, known := networkCategories[c]
		if !ok || !known || seen[name] {
			continue
		}
		seen[name] = true
		active = append(active, name)
	}
	if len(active) == 0 {
		w.ActiveSource = "MSFT_NetConnectionProfile lists no connected network: every profile must be on"
		return
	}
	w.ActiveProfiles = active
	w.ActiveSource = standardCimv2 + " MSFT_NetConnectionProfile NetworkCategory"
}

func serviceState(ctx context.Context, h host.Host, w *WindowsFacts) {
	var src []string
	if v, err := h.Registry(mpssvcKey, "Start"); err == nil {
		n := int64(v.Integer)
		w.Service.StartType = &n
		src = append(src, mpssvcKey+" Start")
	}
	rows, err := queryWMI(ctx, h, cimv2, serviceQuery)
	switch {
	case err != nil:
		w.Notes = append(w.Notes, "Win32_Service mpssvc: "+err.Error())
	case len(rows) == 0:
		w.Service.Running, w.Service.State = boolp(false), "not installed"
		src = append(src, "Win32_Service (no mpssvc)")
	default:
		st := wmiString(rows[0], "State")
		w.Service.Running, w.Service.State = boolp(strings.EqualFold(st, "Running")), st
		src = append(src, "Win32_Service State")
	}
	w.Service.Source = strings.Join(src, ", ")
}

// thirdParty lists Security Center's firewall products, checking that
// each one's executable is still installed.
func thirdParty(ctx context.Context, h host.Host, w *WindowsFacts) {
	rows, err := queryWMI(ctx, h, securityCenter, fwProductQuery)
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) { // Windows Server has no Security Center
			w.Notes = append(w.Notes, "Windows Security Center: "+err.Error())
		}
		return
	}
	for _, r := range rows {
		ps, _ := wmiInt(r, "productState")
		p := ThirdPartyFirewall{
			Name:         wmiString(r, "displayName"),
			ProductState: ps,
			On:           ps&0xF000 == 0x1000,
			Timestamp:    wmiString(r, "timestamp"),
		}
		if exe := wmiString(r, "pathToSignedProductExe"); exe != "" {
			if _, err := h.Stat(expandWindowsPath(h, exe)); err == nil {
				p.ExePresent = boolp(true)
			} else if errors.Is(err, host.ErrNotFound) {
				p.ExePresent = boolp(false)
			}
		}
		w.ThirdParty = append(w.ThirdParty, p)
	}
}

// expandWindowsPath expands the environment variables Security Center
// paths use, from the registry rather than the agent's own environment.
func expandWindowsPath(h host.Host, p string) string {
	vars := []struct{ name, key, value, def string }{
		{"%programfiles(x86)%", currentVersion, "ProgramFilesDir (x86)", `C:\Program Files (x86)`},
		{"%programfiles%", currentVersion, "ProgramFilesDir", `C:\Program Files`},
		{"%systemroot%", currentVersionNT, "SystemRoot", `C:\Windows`},
		{"%windir%", currentVersionNT, "SystemRoot", `C:\Windows`},
	}
	low := strings.ToLower(p)
	for _, v := range vars {
		if i := strings.Index(low, v.name); i >= 0 {
			val := v.def
			if rv, err := h.Registry(v.key, v.value); err == nil && rv.String != "" {
				val = strings.TrimRight(rv.String, `\`)
			}
			p = p[:i] + val + p[i+len(v.name):]
			low = strings.ToLower(p)
		}
	}
	return strings.Trim(p, `"`)
}
