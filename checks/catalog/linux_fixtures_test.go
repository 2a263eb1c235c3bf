package catalog_test

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// NetworkManager's D-Bus names, as checks/wifienc asks them.
const (
	nmService = "org.freedesktop.NetworkManager"
	nmDevice  = "/org/freedesktop/NetworkManager/Devices/3"
	nmAP      = "/org/freedesktop/NetworkManager/AccessPoint/12"
)

var aptSimulate = []string{"/usr/bin/apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"}

// debianLaptop is the part two Debian 12 laptops share: identity, a GNOME
// session of alice at seat 0, apt under systemd, and Wi-Fi on wlan0 managed
// by NetworkManager.
func debianLaptop(t testing.TB, hostname, disk string) *host.Fake {
	f := newMachine("linux", "amd64", hostname)
	d, err := host.OpenSnapshot("../diskenc/testdata/linux/snapshots/" + disk)
	if err != nil {
		t.Fatal(err)
	}
	f.AddSnapshot(d)
	sysNet := "/sys/class/net/"
	f.AddFile("/proc/sys/kernel/hostname", []byte(hostname+"\n")).
		AddFile("/etc/os-release", sample(t, "device", "linux/os-release__debian12.txt")).
		AddRun([]string{"/usr/bin/uname", "-m"}, out([]byte("x86_64\n")), nil).
		AddFile("/proc/sys/net/ipv6/conf/all/disable_ipv6", []byte("0\n")).
		// password_protected, password_policy
		AddFile("/etc/passwd", sample(t, "passwordpolicy", "linux/passwd__laptop_handwritten.txt")).
		AddFile("/etc/login.defs", sample(t, "passwordpolicy", "linux/login.defs__debian12.txt")).
		// screen_lock: alice's GNOME session on seat0
		AddFile("/run/systemd/seats/seat0", sample(t, "screenlock", "linux/logind-seat__seat0_active.txt")).
		AddFile("/run/systemd/sessions/2", sample(t, "screenlock", "linux/logind-session__gnome_wayland.txt")).
		// the session's gnome-shell, whose environment moves no dconf file
		AddFile("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs", []byte("1402\n1450\n")).
		AddFile("/proc/1450/comm", []byte("gnome-shell\n")).
		AddFile("/proc/1450/environ", []byte("HOME=/home/alice\x00LANG=en_US.UTF-8\x00XDG_SESSION_TYPE=wayland\x00")).
		// os_auto_update, os_patched: apt under systemd
		AddStat("/usr/bin/apt-get", program, nil).
		AddStat("/run/systemd/system", directory, nil).
		AddStat("/etc/systemd/system/timers.target.wants/apt-daily.timer", symlink("/lib/systemd/system/apt-daily.timer"), nil).
		AddStat("/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer", symlink("/lib/systemd/system/apt-daily-upgrade.timer"), nil).
		AddStat("/var/lib/apt/periodic/update-success-stamp", host.FileInfo{Name: "update-success-stamp", Mode: 0o644, ModTime: fixtureTime.Add(-3 * time.Hour)}, nil).
		// wifi_encryption: wlan0 up, NetworkManager, default route via wlan0
		AddGlob(sysNet+"*/wireless", []string{sysNet + "wlan0/wireless"}, nil).
		AddGlob(sysNet+"*/phy80211", []string{sysNet + "wlan0/phy80211"}, nil).
		AddFile(sysNet+"wlan0/operstate", []byte("up\n")).
		AddFile(sysNet+"wlan0/uevent", sample(t, "wifienc", "linux/sys_uevent__wlan0.txt")).
		AddRun([]string{"/usr/sbin/ip", "-j", "-6", "route", "get", "2606:4700:4700::1111"}, host.Output{Stderr: sample(t, "wifienc", "linux/ip__route_get_v6_unreachable.stderr.txt"), ExitCode: 2}, nil).
		AddRun([]string{"/usr/sbin/ip", "-j", "route", "get", "1.1.1.1"}, out(sample(t, "wifienc", "linux/ip__route_get_v4_wifi.txt")), nil).
		AddRun([]string{"/usr/bin/busctl", "--json=short", "call", nmService, "/org/freedesktop/NetworkManager", nmService, "GetDeviceByIpIface", "s", "wlan0"}, out(sample(t, "wifienc", "linux/busctl__nm_device.txt")), nil).
		AddRun([]string{"/usr/bin/busctl", "--json=short", "get-property", nmService, nmDevice, nmService + ".Device.Wireless", "ActiveAccessPoint"}, out(sample(t, "wifienc", "linux/busctl__nm_active_ap.txt")), nil)
	return f
}

func nmFlags(t testing.TB, f *host.Fake, flags string) *host.Fake {
	return f.AddRun([]string{"/usr/bin/busctl", "--json=short", "get-property", nmService, nmAP, nmService + ".AccessPoint", "Flags", "WpaFlags", "RsnFlags"}, out(sample(t, "wifienc", "linux/"+flags)), nil)
}

// linuxCompliant is ibhis-laptop-01: Debian 12 hardened to Policy 550.04.
func linuxCompliant(t testing.TB) *host.Fake {
	f := debianLaptop(t, "ibhis-laptop-01", "luks_root_on_lvm")
	fw := "linux/"
	dropIn := "/etc/security/pwquality.conf.d/50-policy.conf"
	f.AddRun([]string{"/usr/sbin/nft", "-j", "list", "ruleset"}, out(sample(t, "firewall", fw+"nft__ufw_active.txt")), nil).
		AddFile("/etc/ufw/ufw.conf", sample(t, "firewall", fw+"ufw.conf__enabled.txt")).
		AddRun([]string{"/usr/sbin/ufw", "status"}, out(sample(t, "firewall", fw+"ufw__active.txt")), nil).
		AddRun([]string{"/usr/sbin/iptables-save"}, out(sample(t, "firewall", fw+"iptables-save__ufw_active.txt")), nil).
		// accounts: alice and bob have passwords expiring within 90 days
		AddFile("/etc/shadow", sample(t, "passwordpolicy", "linux/shadow__laptop_max90_handwritten.txt")).
		AddFile("/etc/pam.d/common-password", sample(t, "passwordpolicy", "linux/common-password__hardened.txt")).
		AddFile("/etc/pam.d/common-auth", sample(t, "passwordpolicy", "linux/common-auth__faillock.txt")).
		AddFile("/etc/security/pwquality.conf", sample(t, "passwordpolicy", "linux/pwquality.conf__debian12_default.txt")).
		AddGlob("/etc/security/pwquality.conf.d/*.conf", []string{dropIn}, nil).
		AddFile(dropIn, sample(t, "passwordpolicy", "linux/pwquality.conf.d-50-policy.conf__handwritten.txt")).
		AddFile("/etc/security/faillock.conf", sample(t, "passwordpolicy", "linux/faillock.conf__deny5.txt")).
		AddFile("/etc/login.defs", sample(t, "passwordpolicy", "linux/login.defs__max90.txt")).
		// unattended-upgrades on, nothing pending
		AddRun([]string{"/usr/bin/apt-config", "dump"}, out(sample(t, "osautoupdate", "linux/apt-config__debian12_unattended_enabled.txt")), nil).
		AddStat("/usr/bin/unattended-upgrade", program, nil).
		AddRun(aptSimulate, out(sample(t, "ospatched", "linux/apt-get__up_to_date.txt")), nil).
		AddRun([]string{"/usr/bin/apt-cache", "policy"}, out(sample(t, "ospatched", "linux/apt-cache-policy__debian12_security.txt")), nil).
		// ClamAV with on-access scanning and definitions built 3 h ago
		AddStat("/var/lib/clamav/daily.cvd", host.FileInfo{Name: "daily.cvd", Size: 60 << 20, Mode: 0o644, ModTime: fixtureTime.Add(-150 * time.Minute)}, nil).
		AddRun([]string{"/usr/bin/head", "-c", "512", "/var/lib/clamav/daily.cvd"}, out(redateCVD(t, sample(t, "antivirus", "linux/head__daily_cvd_2017.txt"), fixtureTime.Add(-3*time.Hour))), nil).
		AddRun([]string{"/usr/bin/systemctl", "is-active", "clamav-freshclam.service", "clamav-daemon.service", "clamav-clamonacc.service", "clamd@scan.service", "clamonacc.service"},
			out(sample(t, "antivirus", "linux/systemctl__clamonacc_active.txt")), nil)
	// screen_lock: GNOME's defaults (locks after 5 minutes)
	return nmFlags(t, f, "busctl__ap_flags_wpa2_psk.txt")
}

// linuxNoncompliant is ibhis-laptop-02: a Debian 12 laptop left at its
// installer defaults and never maintained.
func linuxNoncompliant(t testing.TB) *host.Fake {
	f := debianLaptop(t, "ibhis-laptop-02", "plain_ext4")
	f.AddRun([]string{"/usr/sbin/nft", "-j", "list", "ruleset"}, out(sample(t, "firewall", "linux/nft__empty.txt")), nil).
		// bob has no password; Debian's PAM defaults
		AddFile("/etc/passwd", sample(t, "passwordprotected", "linux/passwd__laptop_handwritten.txt")).
		AddFile("/etc/shadow", sample(t, "passwordprotected", "linux/shadow__laptop_empty_password_handwritten.txt")).
		AddFile("/etc/pam.d/common-password", sample(t, "passwordpolicy", "linux/common-password__debian12.txt")).
		AddFile("/etc/pam.d/common-auth", sample(t, "passwordpolicy", "linux/common-auth__debian12.txt")).
		AddFile("/etc/security/faillock.conf", sample(t, "passwordpolicy", "linux/faillock.conf__debian12_default.txt")).
		// Debian's default apt configuration, 74 security updates pending
		AddRun([]string{"/usr/bin/apt-config", "dump"}, out(sample(t, "osautoupdate", "linux/apt-config__debian12_default.txt")), nil).
		AddRun(aptSimulate, out(sample(t, "ospatched", "linux/apt-get__debian12_security_pending.txt")), nil).
		AddRun([]string{"/usr/bin/apt-cache", "policy"}, out(sample(t, "ospatched", "linux/apt-cache-policy__debian12_security.txt")), nil).
		AddFile("/var/log/apt/history.log", sample(t, "ospatched", "linux/history.log__debian12_no_recent_upgrade.txt")).
		// alice turned the screen lock off
		AddFile("/home/alice/.config/dconf/user", sample(t, "screenlock", "linux/dconf-user__lock_disabled.gvdb"))
	// antivirus: none installed
	return nmFlags(t, f, "busctl__ap_flags_open.txt")
}
