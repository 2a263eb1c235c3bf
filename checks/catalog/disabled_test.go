package catalog_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// compliantWith is the compliant fixture of goos with one more setting:
// every other answer is the fixture's.
func compliantWith(t *testing.T, goos string, change func(*host.Fake)) *host.Fake {
	t.Helper()
	r := openFixture(t, goos+"-compliant")
	f := host.NewFake(goos, "amd64").AddSnapshot(r)
	f.SetMeta(r.Meta())
	change(f)
	return f
}

// TestALaterSettingThatDisablesTheMechanismNeverPasses starts from each
// OS's compliant laptop, where every control passes, and adds one later
// or more specific setting that switches a mechanism off while leaving it
// in place: the control must stop passing. Samples are the packages' own.
func TestALaterSettingThatDisablesTheMechanismNeverPasses(t *testing.T) {
	dword := func(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
	out := func(b []byte) host.Output { return host.Output{Stdout: b} }
	tests := []struct {
		name string
		goos string
		id   checks.ControlID
		// base, when set, makes the compliant laptop into one that passes
		// this control another way first (a release in extended support).
		base   func(*host.Fake)
		change func(*host.Fake)
	}{
		{"an account's own maximum age in shadow (never) over login.defs' 90 days", "linux", checks.PasswordPolicy, nil, func(f *host.Fake) {
			f.AddFile("/etc/shadow", sample(t, "passwordpolicy", "linux/shadow__laptop_bob_never_handwritten.txt"))
		}},
		{"pam_faillock left with preauth only", "linux", checks.PasswordPolicy, nil, func(f *host.Fake) {
			f.AddFile("/etc/pam.d/common-auth", sample(t, "passwordpolicy", "linux/common-auth__faillock_preauth_only_handwritten.txt"))
		}},
		{"a later apt.conf.d file clearing unattended-upgrades' origins", "linux", checks.OSAutoUpdate, nil, func(f *host.Fake) {
			f.AddRun([]string{"/usr/bin/apt-config", "dump"}, out(sample(t, "osautoupdate", "linux/apt-config__debian12_origins_cleared.txt")), nil)
		}},
		{"apt's sources without the security suite", "linux", checks.OSPatched, nil, func(f *host.Fake) {
			f.AddRun([]string{"/usr/bin/apt-cache", "policy"}, out(sample(t, "ospatched", "linux/apt-cache-policy__debian12_no_security.txt")), nil)
		}},
		{"freshclam.conf moving the databases to an empty directory", "linux", checks.Antivirus, nil, func(f *host.Fake) {
			f.AddFile("/etc/clamav/freshclam.conf", append(sample(t, "antivirus", "linux/freshclam.conf__debian12.txt"), "DatabaseDirectory /srv/clamav\n"...))
		}},
		{"the user's dconf database turning the idle lock off", "linux", checks.ScreenLock, nil, func(f *host.Fake) {
			f.AddFile("/home/alice/.config/dconf/user", sample(t, "screenlock", "linux/dconf-user__lock_disabled.gvdb"))
		}},
		{"GDM's daemon.conf turning automatic login on", "linux", checks.PasswordProtected, nil, func(f *host.Fake) {
			f.AddFile("/etc/gdm3/daemon.conf", sample(t, "passwordprotected", "linux/gdm3-daemon.conf__autologin.txt"))
		}},
		{"Group Policy turning the firewall off over the local profile's on", "windows", checks.Firewall, nil, func(f *host.Fake) {
			for _, p := range []string{"DomainProfile", "StandardProfile", "PublicProfile", "PrivateProfile"} {
				f.AddRegistry(`HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\`+p, "EnableFirewall", dword(0), nil)
			}
		}},
		{"Group Policy NoAutoUpdate over Windows Update's automatic default", "windows", checks.OSAutoUpdate, nil, func(f *host.Fake) {
			f.AddRegistry(`HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`, "NoAutoUpdate", dword(1), nil)
		}},
		{"manage-bde's live protection off over WMI's cached on", "windows", checks.DiskEncryption, nil, func(f *host.Fake) {
			f.AddRun([]string{`C:\WINDOWS\System32\manage-bde.exe`, "-status"}, out(sample(t, "diskenc", "windows/manage-bde__c_suspended_utf16.txt")), nil)
		}},
		{"a managed profile turning automatic checks off over the Mac's own preferences", "darwin", checks.OSAutoUpdate, nil, func(f *host.Fake) {
			f.AddFile("/Library/Managed Preferences/com.apple.SoftwareUpdate.plist", sample(t, "osautoupdate", "darwin/managed-SoftwareUpdate__check_off.txt"))
		}},
		{"the connected access point's WPA and RSN flags empty beside its privacy flag (WEP)", "linux", checks.WiFiEncryption, nil, func(f *host.Fake) {
			f.AddRun([]string{"/usr/bin/busctl", "--json=short", "get-property", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager/AccessPoint/12", "org.freedesktop.NetworkManager.AccessPoint", "Flags", "WpaFlags", "RsnFlags"},
				out(sample(t, "wifienc", "linux/busctl__ap_flags_wep.txt")), nil)
		}},
		{"the interface's cipher WEP under open authentication", "windows", checks.WiFiEncryption, nil, func(f *host.Fake) {
			f.AddRun([]string{`C:\WINDOWS\System32\netsh.exe`, "wlan", "show", "interfaces"}, out(sample(t, "wifienc", "windows/netsh__wep_fr_utf16.txt")), nil)
		}},
		{"`pro disable esm-infra` on Ubuntu 20.04 past its standard support", "linux", checks.OSSupported, ubuntu2004WithESM(t, "enabled"), ubuntu2004WithESM(t, "disabled")},
	}
	for _, tc := range tests {
		t.Run(tc.goos+" "+string(tc.id)+": "+tc.name, func(t *testing.T) {
			h := compliantWith(t, tc.goos, func(f *host.Fake) {
				if tc.base != nil {
					tc.base(f)
				}
				tc.change(f)
			})
			at := recordedAt(h)
			report := checks.Collect(context.Background(), h, checks.Device{OS: tc.goos}, at)
			v := checks.EvaluateControl(report, checks.DefaultPolicy(), tc.id, at)
			if v.Status == checks.StatusPass {
				t.Errorf("still passes: %s\nevidence %v", v.Summary, v.Evidence)
			}
			t.Logf("%s: %s", v.Status, v.Summary)
		})
	}
	t.Run("the unchanged fixtures pass these controls", func(t *testing.T) {
		for _, tc := range tests {
			h := compliantWith(t, tc.goos, func(f *host.Fake) {
				if tc.base != nil {
					tc.base(f)
				}
			})
			at := recordedAt(h)
			report := checks.Collect(context.Background(), h, checks.Device{OS: tc.goos}, at)
			if v := checks.EvaluateControl(report, checks.DefaultPolicy(), tc.id, at); v.Status != checks.StatusPass {
				t.Errorf("%s %s = %s (%s) before the change", tc.goos, tc.id, v.Status, v.Summary)
			}
		}
	})
}

// ubuntu2004WithESM makes the laptop Ubuntu 20.04 (standard support ended
// 2025-05-31) attached to Ubuntu Pro, with esm-infra's status as given:
// the real status file, as `pro disable esm-infra` leaves it when disabled.
func ubuntu2004WithESM(t *testing.T, status string) func(*host.Fake) {
	return func(f *host.Fake) {
		st := sample(t, "ossupported", "linux/ubuntu-advantage-status__esm_infra.txt")
		enabled := []byte(`"name": "esm-infra", "status": "enabled"`)
		if !bytes.Contains(st, enabled) {
			t.Fatal("the status sample no longer has esm-infra enabled")
		}
		st = bytes.Replace(st, enabled, []byte(`"name": "esm-infra", "status": "`+status+`"`), 1)
		f.AddFile("/etc/os-release", sample(t, "ossupported", "linux/os-release__ubuntu2004.txt"))
		f.AddFile("/var/lib/ubuntu-advantage/status.json", st)
	}
}
