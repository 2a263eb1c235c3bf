package device

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	computerNameKey = `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName`
	currentVersion  = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	environmentKey  = `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`
)

func collectWindows(h host.Host, in *Info) {
	if v, err := h.Registry(computerNameKey, "ComputerName"); err == nil {
		in.set("hostname", v.String, computerNameKey+` ComputerName`)
	}
	str := func(name string) string {
		v, err := h.Registry(currentVersion, name)
		if err != nil {
			return ""
		}
		if v.Type == "REG_DWORD" || v.Type == "REG_QWORD" {
			return strconv.FormatUint(v.Integer, 10)
		}
		return v.String
	}
	build := str("CurrentBuildNumber")
	if build == "" {
		build = str("CurrentBuild")
	}
	in.set("os_name", WindowsName(str("ProductName"), build), currentVersion+" ProductName, CurrentBuildNumber")
	in.set("os_version", WindowsVersion(str("CurrentMajorVersionNumber"), str("CurrentMinorVersionNumber"), build, str("UBR")), currentVersion+" CurrentMajorVersionNumber, CurrentMinorVersionNumber, CurrentBuildNumber, UBR")
	if v, err := h.Registry(environmentKey, "PROCESSOR_ARCHITECTURE"); err == nil {
		in.set("arch", NormalizeArch(v.String), environmentKey+" PROCESSOR_ARCHITECTURE")
	}
}

// WindowsName corrects ProductName, which still says "Windows 10" on
// Windows 11: build 22000 and later are Windows 11.
func WindowsName(product, build string) string {
	if b, err := strconv.Atoi(build); err == nil && b >= 22000 && strings.Contains(product, "Windows 10") {
		return strings.Replace(product, "Windows 10", "Windows 11", 1)
	}
	return product
}

// WindowsVersion builds "major.minor.build.ubr", e.g. 10.0.26100.2314,
// leaving out what is unknown.
func WindowsVersion(major, minor, build, ubr string) string {
	if build == "" {
		return ""
	}
	if major == "" {
		major, minor = "10", "0"
	}
	if minor == "" {
		minor = "0"
	}
	v := fmt.Sprintf("%s.%s.%s", major, minor, build)
	if ubr != "" {
		v += "." + ubr
	}
	return v
}
