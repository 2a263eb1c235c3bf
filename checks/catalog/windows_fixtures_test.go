package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

const (
	winCurrentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	winFirewallLocal  = `HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\`
	winPowerSchemes   = `HKLM\SYSTEM\CurrentControlSet\Control\Power\User\PowerSchemes`
	winPowerSettings  = `HKLM\SYSTEM\CurrentControlSet\Control\Power\PowerSettings`
	winBalancedScheme = "381b4222-f694-41f0-9685-ff5bb260df2e"
	winSubSleep       = "238c9fa8-0aad-41ed-83f4-97be242c8f20"
	winStandbyIdle    = "29f6c1db-86da-48c5-9fdb-f2b67b1f44da"
	winSubNone        = "fea3413e-7e05-4911-9a71-700331f1c294"
	winConsoleLock    = "0e796bdb-100d-47d6-a2d5-f7d2daa51f51"
	winUserSID        = "S-1-5-21-3623811015-3361044348-30300820-1013"
	winStandardCimv2  = `root\StandardCimv2`
	winDefenderNS     = `root\Microsoft\Windows\Defender`
	winBitLockerNS    = `root\CIMV2\Security\MicrosoftVolumeEncryption`
	winPowerShell     = `C:\WINDOWS\System32\WindowsPowerShell\v1.0\powershell.exe`
)

func dword(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
func sz(s string) host.RegistryValue    { return host.RegistryValue{Type: "REG_SZ", String: s} }

// notDomainJoined is how the RSoP namespace answers on a machine that
// never received domain Group Policy.
var notDomainJoined = host.Wrap(host.ErrNotFound, errors.New(`wmi query in root\RSOP\Computer: powershell exited 1: Invalid namespace`))

// windowsLaptop is the part two Windows 11 24H2 Enterprise laptops share:
// identity, alice signed in at the console, Wi-Fi as the default route,
// and the Windows Update service.
func windowsLaptop(t testing.TB, hostname string) *host.Fake {
	f := newMachine("windows", "amd64", hostname)
	f.AddRegistry(`HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName`, "ComputerName", sz(hostname), nil).
		AddRegistry(`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE", sz("AMD64"), nil).
		AddRegistry(winCurrentVersion, "ProductName", sz("Windows 10 Enterprise"), nil).
		AddRegistry(winCurrentVersion, "EditionID", sz("Enterprise"), nil).
		AddRegistry(winCurrentVersion, "InstallationType", sz("Client"), nil).
		AddRegistry(winCurrentVersion, "CurrentBuild", sz("26100"), nil).
		AddRegistry(winCurrentVersion, "CurrentBuildNumber", sz("26100"), nil).
		AddRegistry(winCurrentVersion, "CurrentMajorVersionNumber", dword(10), nil).
		AddRegistry(winCurrentVersion, "CurrentMinorVersionNumber", dword(0), nil).
		AddRegistry(winCurrentVersion, "SystemRoot", sz(`C:\WINDOWS`), nil).
		AddRegistry(`HKLM\SYSTEM\CurrentControlSet\Services\mpssvc`, "Start", dword(2), nil).
		AddRegistry(`HKLM\SYSTEM\CurrentControlSet\Services\wuauserv`, "Start", dword(3), nil).
		AddWMI(`root\cimv2`, "SELECT Name, State, StartMode FROM Win32_Service WHERE Name='mpssvc'", wmiRows(t, sample(t, "firewall", "windows/wmi-service__mpssvc_running.txt")), nil).
		AddWMI(`root\RSOP\Computer`, "SELECT KeyName, Setting FROM RSOP_SecuritySettingNumeric WHERE precedence=1", nil, notDomainJoined).
		AddWMI(`root\RSOP\Computer`, "SELECT KeyName, Setting FROM RSOP_SecuritySettingBoolean WHERE precedence=1", nil, notDomainJoined).
		// screen_lock: a laptop with a battery, alice at the console
		AddWMI(`root\cimv2`, "SELECT Name FROM Win32_Battery", []map[string]any{{"Name": "DELL 7FHHV96"}}, nil).
		AddWMI(`root\cimv2`, "SELECT UserName FROM Win32_ComputerSystem", []map[string]any{{"UserName": `CONTOSO\alice`}}, nil).
		AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`, "LastLoggedOnSAMUser", sz(`CONTOSO\alice`), nil).
		AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`, "LastLoggedOnUserSID", sz(winUserSID), nil).
		AddRegistry(winPowerSchemes, "ActivePowerScheme", sz(winBalancedScheme), nil).
		// wifi_encryption: the Wi-Fi adapter carries the default routes
		AddWMI(winStandardCimv2, "SELECT Name, InterfaceDescription, InterfaceIndex, InterfaceGuid, InterfaceType, NdisPhysicalMedium, MediaConnectState FROM MSFT_NetAdapter", []map[string]any{
			{"Name": "Wi-Fi", "InterfaceDescription": "Intel(R) Wi-Fi 6 AX201 160MHz", "InterfaceIndex": 12, "InterfaceGuid": "{9A3C5E7D-1B2F-4C6A-8D0E-2F4B6A8C0E1D}", "InterfaceType": 71, "NdisPhysicalMedium": 9, "MediaConnectState": 1},
			{"Name": "Ethernet", "InterfaceDescription": "Intel(R) Ethernet Connection (13) I219-LM", "InterfaceIndex": 7, "InterfaceGuid": "{11111111-2222-3333-4444-555555555555}", "InterfaceType": 6, "NdisPhysicalMedium": 14, "MediaConnectState": 2},
		}, nil).
		AddWMI(winStandardCimv2, "SELECT DestinationPrefix, InterfaceIndex, InterfaceAlias, RouteMetric, Store FROM MSFT_NetRoute", []map[string]any{
			{"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
			{"DestinationPrefix": "192.168.1.0/24", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 256, "Store": 1},
			{"DestinationPrefix": "::/0", "InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "RouteMetric": 0, "Store": 1},
		}, nil).
		AddWMI(winStandardCimv2, "SELECT InterfaceIndex, InterfaceAlias, AddressFamily, InterfaceMetric, ConnectionState FROM MSFT_NetIPInterface", []map[string]any{
			{"InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "AddressFamily": 2, "InterfaceMetric": 35, "ConnectionState": 1},
			{"InterfaceIndex": 12, "InterfaceAlias": "Wi-Fi", "AddressFamily": 23, "InterfaceMetric": 35, "ConnectionState": 1},
			{"InterfaceIndex": 7, "InterfaceAlias": "Ethernet", "AddressFamily": 2, "InterfaceMetric": 25, "ConnectionState": 0},
		}, nil)
	return f
}

// firewallProfiles sets the local firewall store's EnableFirewall for the
// Domain, Standard (private) and Public profiles.
func firewallProfiles(f *host.Fake, domain, private, public uint64) *host.Fake {
	return f.AddRegistry(winFirewallLocal+"DomainProfile", "EnableFirewall", dword(domain), nil).
		AddRegistry(winFirewallLocal+"StandardProfile", "EnableFirewall", dword(private), nil).
		AddRegistry(winFirewallLocal+"PublicProfile", "EnableFirewall", dword(public), nil)
}

// sleepSettings sets the balanced scheme's sleep timeouts (seconds, on
// mains and battery) and whether waking asks for the password.
func sleepSettings(f *host.Fake, ac, dc, lock uint64) *host.Fake {
	sleepKey := winPowerSchemes + `\` + winBalancedScheme + `\` + winSubSleep + `\` + winStandbyIdle
	lockKey := winPowerSettings + `\` + winSubNone + `\` + winConsoleLock + `\DefaultPowerSchemeValues\` + winBalancedScheme
	return f.AddRegistry(sleepKey, "ACSettingIndex", dword(ac), nil).
		AddRegistry(sleepKey, "DCSettingIndex", dword(dc), nil).
		AddRegistry(lockKey, "ACSettingIndex", dword(lock), nil).
		AddRegistry(lockKey, "DCSettingIndex", dword(lock), nil)
}

// redateDefender moves a MSFT_MpComputerStatus sample's signature update
// time (`\/Date(ms)\/`) to updated.
func redateDefender(t testing.TB, b []byte, was, updated time.Time) []byte {
	t.Helper()
	old := []byte(fmt.Sprintf("/Date(%d)", was.UnixMilli()))
	if !bytes.Contains(b, old) {
		t.Fatalf("Defender sample has no %s", old)
	}
	return bytes.ReplaceAll(b, old, []byte(fmt.Sprintf("/Date(%d)", updated.UnixMilli())))
}

// windowsCompliant is IBHIS-LT-0042: Windows 11 24H2 Enterprise managed
// to Policy 550.04.
func windowsCompliant(t testing.TB) *host.Fake {
	f := windowsLaptop(t, "IBHIS-LT-0042")
	desktop := `HKU\` + winUserSID + `\Control Panel\Desktop`
	mp := redateDefender(t, sample(t, "antivirus", "windows/wmi-mpcomputerstatus__normal.txt"), time.UnixMilli(1719468000000), fixtureTime.Add(-4*time.Hour))
	firewallProfiles(f, 1, 1, 1).
		AddWMI(winStandardCimv2, "SELECT Name, Enabled, DefaultInboundAction, DisabledInterfaceAliases FROM MSFT_NetFirewallProfile", wmiRows(t, sample(t, "firewall", "windows/wmi-netfirewallprofile__all_on.txt")), nil).
		AddWMI(winStandardCimv2, "SELECT NetworkCategory FROM MSFT_NetConnectionProfile", wmiRows(t, sample(t, "firewall", "windows/wmi-netconnectionprofile__private_and_domain.txt")), nil).
		AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`, "AutoAdminLogon", sz("0"), nil).
		AddWMI(`root\cimv2`, "SELECT Name, SID, Disabled, PasswordRequired FROM Win32_UserAccount WHERE LocalAccount=TRUE", wmiRows(t, sample(t, "passwordprotected", "windows/Win32_UserAccount__win11_handwritten.json")), nil).
		AddRun([]string{`C:\WINDOWS\System32\secedit.exe`, "/export", "/cfg", `C:\ProgramData\Postern\secpol.inf`, "/areas", "SECURITYPOLICY", "/quiet"}, out([]byte("\r\nThe task has completed successfully.\r\n")), nil).
		AddFile(`C:\ProgramData\Postern\secpol.inf`, sample(t, "passwordpolicy", "windows/secpol.inf__hardened_utf16_handwritten.txt")).
		AddWMI(winDefenderNS, "SELECT * FROM MSFT_MpComputerStatus", wmiRows(t, mp), nil).
		AddWMI(`root\SecurityCenter2`, "SELECT * FROM AntiVirusProduct", wmiRows(t, sample(t, "antivirus", "windows/wmi-antivirusproduct__defender_on.txt")), nil).
		AddWMI(winBitLockerNS, "SELECT * FROM Win32_EncryptableVolume", wmiRows(t, sample(t, "diskenc", "windows/wmi-encryptablevolume__protected.txt")), nil).
		AddRun([]string{`C:\WINDOWS\System32\manage-bde.exe`, "-status"}, out(sample(t, "diskenc", "windows/manage-bde__protection_on.txt")), nil).
		AddRun([]string{`C:\WINDOWS\System32\netsh.exe`, "wlan", "show", "interfaces"}, out(sample(t, "wifienc", "windows/netsh__wpa3_enterprise_win11_en.txt")), nil).
		// a secure 10-minute screen saver; sleep after 30/15 min with a password on wake
		AddRegistry(desktop, "ScreenSaveActive", sz("1"), nil).
		AddRegistry(desktop, "ScreenSaverIsSecure", sz("1"), nil).
		AddRegistry(desktop, "ScreenSaveTimeOut", sz("600"), nil).
		AddRegistry(desktop, "SCRNSAVE.EXE", sz(`C:\Windows\system32\scrnsave.scr`), nil)
	// Windows Update's cached scan: nothing security-relevant pending
	ps := argvAsked(t, f, checks.OSPatched, winPowerShell)
	f.AddRegistry(winCurrentVersion, "UBR", dword(9711), nil).
		AddRun(ps, out(sample(t, "ospatched", "windows/powershell-wua__none_pending.txt")), nil).
		AddWMI(`root\cimv2`, "SELECT HotFixID, InstalledOn FROM Win32_QuickFixEngineering", []map[string]any{{"HotFixID": "KB5065426", "InstalledOn": "10/15/2026"}, {"HotFixID": "KB5054156", "InstalledOn": "3/12/2025"}}, nil)
	return sleepSettings(f, 1800, 900, 1)
}

// windowsNoncompliant is IBHIS-LT-0043: Windows 11 24H2 at its defaults,
// behind on updates, with BitLocker suspended.
func windowsNoncompliant(t testing.TB) *host.Fake {
	f := windowsLaptop(t, "IBHIS-LT-0043")
	firewallProfiles(f, 1, 1, 0).
		AddWMI(winStandardCimv2, "SELECT Name, Enabled, DefaultInboundAction, DisabledInterfaceAliases FROM MSFT_NetFirewallProfile", wmiRows(t, sample(t, "firewall", "windows/wmi-netfirewallprofile__public_off.txt")), nil).
		AddWMI(winStandardCimv2, "SELECT NetworkCategory FROM MSFT_NetConnectionProfile", wmiRows(t, sample(t, "firewall", "windows/wmi-netconnectionprofile__public.txt")), nil).
		AddRegistry(winCurrentVersion, "UBR", dword(4946), nil).
		AddRegistry(`HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`, "NoAutoUpdate", dword(1), nil).
		AddRegistry(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`, "AutoAdminLogon", sz("0"), nil).
		AddWMI(`root\cimv2`, "SELECT Name, SID, Disabled, PasswordRequired FROM Win32_UserAccount WHERE LocalAccount=TRUE", wmiRows(t, sample(t, "passwordprotected", "windows/Win32_UserAccount__guest_enabled_handwritten.json")), nil).
		AddRun([]string{`C:\WINDOWS\System32\secedit.exe`, "/export", "/cfg", `C:\ProgramData\Postern\secpol.inf`, "/areas", "SECURITYPOLICY", "/quiet"}, out([]byte("\r\nThe task has completed successfully.\r\n")), nil).
		AddFile(`C:\ProgramData\Postern\secpol.inf`, sample(t, "passwordpolicy", "windows/secpol.inf__win11_defaults_utf16_handwritten.txt")).
		AddWMI(winDefenderNS, "SELECT * FROM MSFT_MpComputerStatus", wmiRows(t, sample(t, "antivirus", "windows/wmi-mpcomputerstatus__realtime_off.txt")), nil).
		AddWMI(winDefenderNS, "SELECT ScanScheduleDay FROM MSFT_MpPreference", wmiRows(t, sample(t, "antivirus", "windows/wmi-mppreference__never.txt")), nil).
		AddWMI(`root\SecurityCenter2`, "SELECT * FROM AntiVirusProduct", wmiRows(t, sample(t, "antivirus", "windows/wmi-antivirusproduct__defender_on.txt")), nil).
		AddWMI(winBitLockerNS, "SELECT * FROM Win32_EncryptableVolume", wmiRows(t, sample(t, "diskenc", "windows/wmi-encryptablevolume__os_suspended.txt")), nil).
		AddRun([]string{`C:\WINDOWS\System32\manage-bde.exe`, "-status"}, out(sample(t, "diskenc", "windows/manage-bde__c_suspended_utf16.txt")), nil).
		AddRun([]string{`C:\WINDOWS\System32\netsh.exe`, "wlan", "show", "interfaces"}, out(sample(t, "wifienc", "windows/netsh__wep_fr_utf16.txt")), nil)
	// sleeps after an hour without asking for the password on wake; no screen saver
	return sleepSettings(f, 3600, 3600, 0)
}
