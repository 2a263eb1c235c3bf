package catalog_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

const (
	macUsers       = "/var/db/dslocal/nodes/Default/users/"
	macXProtect    = "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist"
	macSUPlist     = "/Library/Preferences/com.apple.SoftwareUpdate.plist"
	macByHostGlob  = "/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.*.plist"
	macByHostFile  = "/Users/alice/Library/Preferences/ByHost/com.apple.screensaver.6A1B2C3D-0000-4E5F-8A9B-0C1D2E3F4A5B.plist"
	macDsclAlice   = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>dsAttrTypeStandard:NFSHomeDirectory</key>\n\t<array>\n\t\t<string>/Users/alice</string>\n\t</array>\n</dict>\n</plist>\n"
	systemVersion  = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>ProductBuildVersion</key>\n\t<string>%s</string>\n\t<key>ProductName</key>\n\t<string>macOS</string>\n\t<key>ProductVersion</key>\n\t<string>%s</string>\n</dict>\n</plist>\n"
	xprotectBuilt  = "2024-06-26T18:05:44Z" // XProtect 2193 in the install history sample
	xprotectMtimeS = "2024-06-26T18:05:50Z"
)

var plistDate = regexp.MustCompile(`<date>([0-9T:-]+Z)</date>`)

// shiftPlistDates moves every <date> of an XML property list by d, so that
// a real install history can stand for a recent one.
func shiftPlistDates(t testing.TB, b []byte, d time.Duration) []byte {
	t.Helper()
	return plistDate.ReplaceAllFunc(b, func(m []byte) []byte {
		v, err := time.Parse(time.RFC3339, string(plistDate.FindSubmatch(m)[1]))
		if err != nil {
			t.Fatal(err)
		}
		return []byte("<date>" + v.Add(d).UTC().Format(time.RFC3339) + "</date>")
	})
}

func mustTime(s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v
}

// macBook is the part two MacBooks share: identity, local accounts, alice
// at the console, Wi-Fi on en0 as the default route, and XProtect whose
// install history is shifted by age.
func macBook(t testing.TB, hostname, version, build string) *host.Fake {
	f := newMachine("darwin", "arm64", hostname)
	sysVer := []byte(fmt.Sprintf(systemVersion, build, version))
	for _, u := range []string{"jdoe__password", "root__nohash", "_www__service", "old__disabled_blank"} {
		name, _, _ := strings.Cut(u, "__")
		f.AddFile(macUsers+name+".plist", sample(t, "passwordprotected", "darwin/user-"+u+"_handwritten.plist"))
	}
	f.AddGlob(macUsers+"*.plist", []string{macUsers + "_www.plist", macUsers + "jdoe.plist", macUsers + "old.plist", macUsers + "root.plist"}, nil).
		AddRun([]string{"/usr/sbin/scutil", "--get", "ComputerName"}, out([]byte(hostname+"\n")), nil).
		AddRun([]string{"/usr/bin/uname", "-m"}, out([]byte("arm64\n")), nil).
		AddFile("/System/Library/CoreServices/SystemVersion.plist", sysVer).
		AddRun([]string{"/usr/bin/sw_vers", "-productVersion"}, out([]byte(version+"\n")), nil).
		// screen_lock: alice at the console
		AddRun([]string{"/usr/bin/stat", "-f", "%Su %u", "/dev/console"}, out([]byte("alice 501\n")), nil).
		AddRun([]string{"/usr/bin/dscl", "-plist", ".", "-read", "/Users/alice", "NFSHomeDirectory"}, out([]byte(macDsclAlice)), nil).
		AddRun([]string{"/usr/bin/pmset", "-g", "custom"}, out(sample(t, "screenlock", "darwin/pmset-custom__macbook.txt")), nil).
		AddGlob(macByHostGlob, []string{macByHostFile}, nil).
		AddFile(macByHostFile, sample(t, "screenlock", "darwin/byhost-screensaver__idle_600.plist")).
		// wifi_encryption: en0 carries the default route
		AddRun([]string{"/sbin/route", "-n", "get", "1.1.1.1"}, out(sample(t, "wifienc", "darwin/route__get_v4_en0.txt")), nil).
		AddRun([]string{"/sbin/route", "-n", "get", "-inet6", "2606:4700:4700::1111"}, host.Output{Stderr: sample(t, "wifienc", "darwin/route__get_v6_not_in_table.stderr.txt"), ExitCode: 1}, nil).
		AddRun([]string{"/usr/sbin/diskutil", "info", "-plist", "/"}, out(sample(t, "diskenc", "darwin/diskutil-info__root_handwritten.txt")), nil).
		AddStat("/Library/Apple/System/Library/CoreServices/XProtect.app", host.FileInfo{Name: "XProtect.app", Mode: directory.Mode}, nil).
		AddFile(macXProtect, sample(t, "antivirus", "darwin/xprotect-info-plist__2193_handwritten.txt"))
	return f
}

// withXProtectAge makes XProtect's last definitions install age before
// fixtureTime, shifting the install history sample to match.
func withXProtectAge(t testing.TB, f *host.Fake, age time.Duration) *host.Fake {
	shift := fixtureTime.Add(-age).Sub(mustTime(xprotectBuilt))
	return f.AddStat(macXProtect, host.FileInfo{Name: "Info.plist", Size: 600, Mode: 0o644, ModTime: mustTime(xprotectMtimeS).Add(shift)}, nil).
		AddFile("/Library/Receipts/InstallHistory.plist", shiftPlistDates(t, sample(t, "antivirus", "darwin/installhistory-plist__xprotect_handwritten.txt"), shift))
}

// darwinCompliant is ibhis-mbp-07: a MacBook on macOS 26.7.1 (the build
// number is made up: no published one was found) managed to
// Policy 550.04.
func darwinCompliant(t testing.TB) *host.Fake {
	f := withXProtectAge(t, macBook(t, "ibhis-mbp-07", "26.7.1", "25H100"), 6*time.Hour)
	return f.AddFile("/Library/Preferences/com.apple.loginwindow.plist", sample(t, "passwordprotected", "darwin/com.apple.loginwindow__default_binary_handwritten.plist")).
		AddRun([]string{"/usr/bin/pwpolicy", "-getaccountpolicies"}, out(sample(t, "passwordpolicy", "darwin/pwpolicy__compliant_handwritten.txt")), nil).
		AddRun([]string{"/usr/libexec/ApplicationFirewall/socketfilterfw", "--getglobalstate", "--getblockall", "--getstealthmode"}, out(sample(t, "firewall", "darwin/socketfilterfw__on.txt")), nil).
		AddRun([]string{"/sbin/pfctl", "-s", "info"}, host.Output{Stderr: sample(t, "firewall", "darwin/pfctl__permission_denied_stderr_handwritten.txt"), ExitCode: 1}, nil).
		AddFile(macSUPlist, sample(t, "osautoupdate", "darwin/com.apple.SoftwareUpdate__download_only.txt")).
		AddRun([]string{"/usr/sbin/softwareupdate", "--list"}, host.Output{Stdout: sample(t, "ospatched", "darwin/softwareupdate__none_stdout.txt"), Stderr: sample(t, "ospatched", "darwin/softwareupdate__none_stderr.txt")}, nil).
		AddRun([]string{"/bin/launchctl", "asuser", "501", "/usr/bin/sudo", "-u", "alice", "/usr/sbin/sysadminctl", "-screenLock", "status"}, host.Output{Stderr: sample(t, "screenlock", "darwin/sysadminctl__immediate.txt")}, nil).
		AddRun([]string{"/usr/sbin/system_profiler", "-json", "SPAirPortDataType"}, out(sample(t, "wifienc", "darwin/system_profiler__wpa2_personal.txt")), nil).
		AddRun([]string{"/usr/sbin/diskutil", "apfs", "list", "-plist"}, out(sample(t, "diskenc", "darwin/diskutil-apfs-list__filevault_on_handwritten.txt")), nil).
		AddRun([]string{"/usr/bin/fdesetup", "status"}, out(sample(t, "diskenc", "darwin/fdesetup__on.txt")), nil)
}

// darwinNoncompliant is ibhis-mbp-08: a MacBook left on macOS Ventura
// with automatic sign-in, FileVault off and XProtect ten days stale.
func darwinNoncompliant(t testing.TB) *host.Fake {
	f := withXProtectAge(t, macBook(t, "ibhis-mbp-08", "13.7.8", "22H730"), 10*24*time.Hour)
	return f.AddFile("/Library/Preferences/com.apple.loginwindow.plist", sample(t, "passwordprotected", "darwin/com.apple.loginwindow__autologin_binary_handwritten.plist")).
		AddStat("/etc/kcpassword", host.FileInfo{Name: "kcpassword", Mode: 0o600, Size: 12}, nil).
		AddRun([]string{"/usr/bin/pwpolicy", "-getaccountpolicies"}, out(sample(t, "passwordpolicy", "darwin/pwpolicy__length_only_handwritten.txt")), nil).
		AddRun([]string{"/usr/libexec/ApplicationFirewall/socketfilterfw", "--getglobalstate", "--getblockall", "--getstealthmode"}, out(sample(t, "firewall", "darwin/socketfilterfw__off.txt")), nil).
		AddRun([]string{"/sbin/pfctl", "-s", "info"}, host.Output{Stderr: sample(t, "firewall", "darwin/pfctl__permission_denied_stderr_handwritten.txt"), ExitCode: 1}, nil).
		AddFile(macSUPlist, sample(t, "antivirus", "darwin/softwareupdate-plist__configdata_off_handwritten.txt")).
		AddRun([]string{"/usr/sbin/softwareupdate", "--list"}, out(sample(t, "ospatched", "darwin/softwareupdate__sequoia_point_release.txt")), nil).
		AddRun([]string{"/bin/launchctl", "asuser", "501", "/usr/bin/sudo", "-u", "alice", "/usr/sbin/sysadminctl", "-screenLock", "status"}, host.Output{Stderr: sample(t, "screenlock", "darwin/sysadminctl__off.txt")}, nil).
		AddRun([]string{"/usr/sbin/system_profiler", "-json", "SPAirPortDataType"}, out(sample(t, "wifienc", "darwin/system_profiler__open_redacted.txt")), nil).
		AddRun([]string{"/usr/sbin/diskutil", "apfs", "list", "-plist"}, out(sample(t, "diskenc", "darwin/diskutil-apfs-list__filevault_off_handwritten.txt")), nil).
		AddRun([]string{"/usr/bin/fdesetup", "status"}, out(sample(t, "diskenc", "darwin/fdesetup__off.txt")), nil)
}
