package device

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// Info is the device description with the source of each value, by JSON
// field name of checks.Device (hostname, os_name, os_version, arch).
type Info struct {
	Device  checks.Device     `json:"device"`
	Sources map[string]string `json:"sources"`
}

// Collect describes the machine behind h. Values that cannot be read are
// left empty; it never fails.
func Collect(ctx context.Context, h host.Host) checks.Device {
	return CollectInfo(ctx, h).Device
}

// CollectInfo is Collect with the source of each value.
func CollectInfo(ctx context.Context, h host.Host) Info {
	in := Info{Device: checks.Device{OS: h.GOOS()}, Sources: map[string]string{"os": "host"}}
	switch h.GOOS() {
	case "linux":
		collectLinux(ctx, h, &in)
	case "windows":
		collectWindows(h, &in)
	case "darwin":
		collectDarwin(ctx, h, &in)
	}
	if in.Device.Arch == "" {
		if a := host.Arch(h); a != "" {
			in.set("arch", a, "agent build (GOARCH)")
		}
	}
	return in
}

func (in *Info) set(field, value, source string) {
	if value == "" {
		return
	}
	if len(value) > checks.MaxDeviceField {
		// Cut on a character boundary, so that a long UTF-8 name stays
		// valid UTF-8.
		n := checks.MaxDeviceField
		for n > checks.MaxDeviceField-utf8.UTFMax && !utf8.RuneStart(value[n]) {
			n--
		}
		value = value[:n]
	}
	switch field {
	case "hostname":
		in.Device.Hostname = value
	case "os_name":
		in.Device.OSName = value
	case "os_version":
		in.Device.OSVersion = value
	case "arch":
		in.Device.Arch = value
	}
	in.Sources[field] = source
}

// NormalizeArch maps the names uname, Windows and Go use for one
// architecture to Go's, so the fleet view groups them.
func NormalizeArch(s string) string {
	switch a := strings.ToLower(strings.TrimSpace(s)); a {
	case "x86_64", "amd64", "x64":
		return "amd64"
	case "aarch64", "arm64", "aarch64_be":
		return "arm64"
	case "i386", "i486", "i586", "i686", "x86", "386":
		return "386"
	case "armv6l", "armv7l", "arm":
		return "arm"
	default:
		return a
	}
}

// firstLine returns the first line of command output, trimmed.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(s)
}
