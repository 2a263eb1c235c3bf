package device

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// os-release, hostname files, uname, scutil and SystemVersion.plist are
// read as they are; whatever they hold: no panic, output bounded by the
// input, every field within the wire's bound and still valid UTF-8 when
// it was. `go test` runs the seeds; `go test -fuzz` explores from them.

func FuzzParseOSRelease(f *testing.F) {
	b := checktest.Testdata(f, "linux", "os-release__debian12.txt")
	f.Add(b)
	f.Add([]byte("NAME=\"a\\\"b\"\nVERSION_ID='1\n#X=1\nPRETTY_NAME=\"\\x\"\n=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kv := ParseOSRelease(b)
		if len(kv) > strings.Count(string(b), "\n")+1 {
			t.Fatalf("%d keys", len(kv))
		}
		for k, v := range kv {
			if strings.Contains(k, "\n") || len(v) > len(b) {
				t.Fatalf("%q = %q", k, v)
			}
		}
	})
}

func checkDevice(t *testing.T, in Info, inputsValid bool) {
	t.Helper()
	for name, v := range map[string]string{"hostname": in.Device.Hostname, "os_name": in.Device.OSName, "os_version": in.Device.OSVersion, "arch": in.Device.Arch} {
		if len(v) > checks.MaxDeviceField {
			t.Fatalf("%s is %d bytes", name, len(v))
		}
		if inputsValid && !utf8.ValidString(v) {
			t.Fatalf("%s %q is not valid UTF-8", name, v)
		}
		if v != "" && in.Sources[name] == "" {
			t.Fatalf("%s has no source", name)
		}
	}
}

func FuzzCollectLinux(f *testing.F) {
	b := checktest.Testdata(f, "linux", "os-release__debian12.txt")
	f.Add([]byte("laptop\n"), b, []byte("x86_64\n"))
	f.Add([]byte(strings.Repeat("é", 300)), []byte("NAME="+strings.Repeat("€", 200)), []byte("\n"))
	f.Fuzz(func(t *testing.T, hostname, osRelease, uname []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile("/proc/sys/kernel/hostname", hostname).
			AddFile("/etc/os-release", osRelease).
			AddRun([]string{"/usr/bin/uname", "-m"}, host.Output{Stdout: uname}, nil)
		checkDevice(t, CollectInfo(context.Background(), h), utf8.Valid(hostname) && utf8.Valid(osRelease) && utf8.Valid(uname))
	})
}

func FuzzCollectDarwin(f *testing.F) {
	f.Add([]byte("Alice's MacBook Pro\n"), []byte(sonomaPlist), []byte("arm64\n"))
	f.Add([]byte{}, []byte("<plist><dict><key>ProductName</key><integer>1</integer></dict></plist>"), []byte{})
	f.Fuzz(func(t *testing.T, scutil, plist, uname []byte) {
		h := host.NewFake("darwin", "arm64").
			AddRun([]string{"/usr/sbin/scutil", "--get", "ComputerName"}, host.Output{Stdout: scutil}, nil).
			AddFile(systemVersionPlist, plist).
			AddRun([]string{"/usr/bin/uname", "-m"}, host.Output{Stdout: uname}, nil)
		// The plist decoder turns escapes into text, so validity of the
		// input says nothing about its strings; only the bound is checked.
		checkDevice(t, CollectInfo(context.Background(), h), false)
	})
}

func FuzzWindowsVersion(f *testing.F) {
	f.Add("Windows 10 Pro", "10", "0", "26100", "2314")
	f.Add("Windows 10 Home", "", "", "", "")
	f.Fuzz(func(t *testing.T, product, major, minor, build, ubr string) {
		name := WindowsName(product, build)
		if len(name) != len(product) {
			t.Fatalf("WindowsName(%q, %q) = %q changed length", product, build, name)
		}
		v := WindowsVersion(major, minor, build, ubr)
		if build == "" && v != "" || build != "" && !strings.Contains(v, build) {
			t.Fatalf("WindowsVersion = %q", v)
		}
	})
}
