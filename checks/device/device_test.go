package device

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

const sonomaPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ProductBuildVersion</key>
	<string>23F79</string>
	<key>ProductName</key>
	<string>macOS</string>
	<key>ProductVersion</key>
	<string>14.5</string>
</dict>
</plist>
`

func TestCollect(t *testing.T) {
	osRelease, err := os.ReadFile("testdata/linux/os-release__debian12.txt")
	if err != nil {
		t.Fatal(err)
	}
	reg := func(s string) host.RegistryValue { return host.RegistryValue{Type: "REG_SZ", String: s} }
	dword := func(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
	tests := []struct {
		name string
		host host.Host
		want checks.Device
	}{
		{"a Linux host is described from proc, os-release and uname", host.NewFake("linux", "386").
			AddFile("/proc/sys/kernel/hostname", []byte("laptop-17\n")).
			AddFile("/etc/os-release", osRelease).
			AddRun([]string{"/usr/bin/uname", "-m"}, host.Output{Stdout: []byte("x86_64\n")}, nil),
			checks.Device{Hostname: "laptop-17", OS: "linux", OSName: "Debian GNU/Linux", OSVersion: "12", Arch: "amd64"}},
		{"a Linux host falls back to /etc/hostname, /usr/lib/os-release and the recorded arch", host.NewFake("linux", "arm64").
			AddFile("/etc/hostname", []byte("pi\n")).
			AddFile("/usr/lib/os-release", []byte("NAME='Arch Linux'\nBUILD_ID=rolling\n")),
			checks.Device{Hostname: "pi", OS: "linux", OSName: "Arch Linux", Arch: "arm64"}},
		{"Windows 11 is named so although ProductName says Windows 10", host.NewFake("windows", "").
			AddRegistry(computerNameKey, "ComputerName", reg("DESKTOP-4QF2"), nil).
			AddRegistry(currentVersion, "ProductName", reg("Windows 10 Pro"), nil).
			AddRegistry(currentVersion, "CurrentBuildNumber", reg("26100"), nil).
			AddRegistry(currentVersion, "CurrentMajorVersionNumber", dword(10), nil).
			AddRegistry(currentVersion, "CurrentMinorVersionNumber", dword(0), nil).
			AddRegistry(currentVersion, "UBR", dword(2314), nil).
			AddRegistry(environmentKey, "PROCESSOR_ARCHITECTURE", reg("ARM64"), nil),
			checks.Device{Hostname: "DESKTOP-4QF2", OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.26100.2314", Arch: "arm64"}},
		{"Windows 10 stays Windows 10", host.NewFake("windows", "amd64").
			AddRegistry(currentVersion, "ProductName", reg("Windows 10 Enterprise"), nil).
			AddRegistry(currentVersion, "CurrentBuild", reg("19045"), nil),
			checks.Device{OS: "windows", OSName: "Windows 10 Enterprise", OSVersion: "10.0.19045", Arch: "amd64"}},
		{"a Mac is described from scutil and SystemVersion.plist", host.NewFake("darwin", "amd64").
			AddRun([]string{"/usr/sbin/scutil", "--get", "ComputerName"}, host.Output{Stdout: []byte("Dana's MacBook Air\n")}, nil).
			AddFile(systemVersionPlist, []byte(sonomaPlist)).
			AddRun([]string{"/usr/bin/uname", "-m"}, host.Output{Stdout: []byte("arm64\n")}, nil),
			checks.Device{Hostname: "Dana's MacBook Air", OS: "darwin", OSName: "macOS", OSVersion: "14.5", Arch: "arm64"}},
		{"an empty snapshot still names the OS", host.NewFake("freebsd", ""), checks.Device{OS: "freebsd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Collect(context.Background(), tc.host)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSourcesAreRecorded(t *testing.T) {
	h := host.NewFake("linux", "amd64").AddFile("/etc/hostname", []byte("box\n"))
	in := CollectInfo(context.Background(), h)
	want := map[string]string{"os": "host", "hostname": "/etc/hostname", "arch": "agent build (GOARCH)"}
	if diff := cmp.Diff(want, in.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}
