package catalog_test

import (
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
		name   string
		goos   string
		id     checks.ControlID
		change func(*host.Fake)
	}{
		{"an account's own maximum age in shadow (never) over login.defs' 90 days", "linux", checks.PasswordPolicy, func(f *host.Fake) {
			f.AddFile("/etc/shadow", sample(t, "passwordpolicy", "linux/shadow__laptop_bob_never_handwritten.txt"))
		}},
		{"pam_faillock left with preauth only", "linux", checks.PasswordPolicy, func(f *host.Fake) {
			f.AddFile("/etc/pam.d/common-auth", sample(t, "passwordpolicy", "linux/common-auth__faillock_preauth_only_handwritten.txt"))
		}},
		{"a later apt.conf.d file clearing unattended-upgrades' origins", "linux", checks.OSAutoUpdate, func(f *host.Fake) {
			f.AddRun([]string{"/usr/bin/apt-config", "dump"}, out(sample(t, "osautoupdate", "linux/apt-config__debian12_origins_cleared.txt")), nil)
		}},
		{"apt's sources without the security suite", "linux", checks.OSPatched, func(f *host.Fake) {
			f.AddRun([]string{"/usr/bin/apt-cache", "policy"}, out(sample(t, "ospatched", "linux/apt-cache-policy__debian12_no_security.txt")), nil)
		}},
		{"freshclam.conf moving the databases to an empty directory", "linux", checks.Antivirus, func(f *host.Fake) {
			f.AddFile("/etc/clamav/freshclam.conf", append(sample(t, "antivirus", "linux/freshclam.conf__debian12.txt"), "DatabaseDirectory /srv/clamav\n"...))
		}},
		{"the user's dconf database turning the idle lock off", "linux", checks.ScreenLock, func(f *host.Fake) {
			f.AddFile("/home/alice/.config/dconf/user", sample(t, "screenlock", "linux/dconf-user__lock_disabled.gvdb"))
		}},
		{"GDM's daemon.conf turning automatic login on", "linux", checks.PasswordProtected, func(f *host.Fake) {
			f.AddFile("/etc/gdm3/daemon.conf", sample(t, "passwordprotected", "linux/gdm3-daemon.conf__autologin.txt"))
		}},
		{"Group Policy turning the firewall off over the local profile's on", "windows", checks.Firewall, func(f *host.Fake) {
			for _, p := range []string{"DomainProfile", "StandardProfile", "PublicProfile", "PrivateProfile"} {
				f.AddRegistry(`HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\`+p, "EnableFirewall", dword(0), nil)
			}
		}},
		{"Group Policy NoAutoUpdate over Windows Update's automatic default", "windows", checks.OSAutoUpdate, func(f *host.Fake) {
			f.AddRegistry(`HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`, "NoAutoUpdate", dword(1), nil)
		}},
		{"manage-bde's live protection off over WMI's cached on", "windows", checks.DiskEncryption, func(f *host.Fake) {
			f.AddRun([]string{`C:\WINDOWS\System32\manage-bde.exe`, "-status"}, out(sample(t, "diskenc", "windows/manage-bde__c_suspended_utf16.txt")), nil)
		}},
		{"a managed profile turning automatic checks off over the Mac's own preferences", "darwin", checks.OSAutoUpdate, func(f *host.Fake) {
			f.AddFile("/Library/Managed Preferences/com.apple.SoftwareUpdate.plist", sample(t, "osautoupdate", "darwin/managed-SoftwareUpdate__check_off.txt"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.goos+" "+string(tc.id)+": "+tc.name, func(t *testing.T) {
			h := compliantWith(t, tc.goos, tc.change)
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
			h := compliantWith(t, tc.goos, func(*host.Fake) {})
			at := recordedAt(h)
			report := checks.Collect(context.Background(), h, checks.Device{OS: tc.goos}, at)
			if v := checks.EvaluateControl(report, checks.DefaultPolicy(), tc.id, at); v.Status != checks.StatusPass {
				t.Errorf("%s %s = %s (%s) before the change", tc.goos, tc.id, v.Status, v.Summary)
			}
		}
	})
}
