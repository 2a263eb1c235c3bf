package osdata

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

// Identity is which release of which operating system a device runs, as
// the end-of-life table keys it, with where each value was read.
type Identity struct {
	// Platform is windows, macos, or the Linux os-release ID (ubuntu,
	// debian, rhel, rocky, almalinux, centos, fedora, sles,
	// opensuse-leap, opensuse-tumbleweed...).
	Platform string `json:"platform"`
	// Version is the Windows build (CurrentBuildNumber), the macOS
	// ProductVersion or the Linux VERSION_ID.
	Version string `json:"version"`
	// Patch is the Windows update build revision (UBR).
	Patch string `json:"patch,omitempty"`
	// Edition is the Windows EditionID (Professional, Enterprise, Core...).
	Edition string `json:"edition,omitempty"`
	// InstallationType is the Windows InstallationType (Client, Server).
	InstallationType string `json:"installation_type,omitempty"`
	// Name is the human name, e.g. "Windows 11 Pro" or "Ubuntu 22.04.4 LTS".
	Name   string `json:"name"`
	Source string `json:"source"`
}

// FullVersion is the version compared with a baseline: build.UBR on
// Windows, the version elsewhere.
func (id Identity) FullVersion() string {
	if id.Platform == "windows" && id.Patch != "" {
		return id.Version + "." + id.Patch
	}
	return id.Version
}

// EditionClass maps a Windows EditionID to the table's edition classes:
// home, pro, enterprise, education, ltsc, iot_ltsc or server.
func EditionClass(editionID, installationType string) string {
	e := strings.ToLower(editionID)
	switch {
	case strings.EqualFold(installationType, "Server") || strings.HasPrefix(e, "server"):
		return "server"
	case strings.HasPrefix(e, "iotenterprises"):
		return "iot_ltsc"
	case strings.HasPrefix(e, "enterprises"):
		return "ltsc"
	case strings.HasPrefix(e, "enterprise"), strings.HasPrefix(e, "iotenterprise"):
		return "enterprise"
	case strings.HasPrefix(e, "education"):
		return "education"
	case strings.HasPrefix(e, "core"):
		return "home"
	case strings.HasPrefix(e, "professional"):
		return "pro"
	}
	return ""
}

// Source locations of the identity.
const (
	WindowsCurrentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	SystemVersionPlist    = "/System/Library/CoreServices/SystemVersion.plist"
	swVersPath            = "/usr/bin/sw_vers"
)

// ReadIdentity reads the release the host runs. An error says precisely
// what could not be read.
func ReadIdentity(ctx context.Context, h host.Host) (Identity, error) {
	switch h.GOOS() {
	case "windows":
		return windowsIdentity(h)
	case "darwin":
		return macIdentity(ctx, h)
	case "linux":
		return linuxIdentity(h)
	}
	return Identity{}, fmt.Errorf("the release of %s is not checked", h.GOOS())
}

// RegString reads a registry value as text, formatting integers.
func RegString(h host.Host, key, name string) (string, error) {
	v, err := h.Registry(key, name)
	if err != nil {
		return "", err
	}
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		return strconv.FormatUint(v.Integer, 10), nil
	case "REG_MULTI_SZ":
		return strings.Join(v.Strings, ","), nil
	}
	return v.String, nil
}

func windowsIdentity(h host.Host) (Identity, error) {
	build, err := RegString(h, WindowsCurrentVersion, "CurrentBuildNumber")
	if errors.Is(err, host.ErrNotFound) {
		build, err = RegString(h, WindowsCurrentVersion, "CurrentBuild")
	}
	if err != nil {
		return Identity{}, fmt.Errorf("read the Windows build from %s: %w", WindowsCurrentVersion, err)
	}
	id := Identity{Platform: "windows", Version: strings.TrimSpace(build), Source: WindowsCurrentVersion + " CurrentBuildNumber, UBR, EditionID, InstallationType, ProductName"}
	id.Patch, _ = RegString(h, WindowsCurrentVersion, "UBR")
	id.Edition, _ = RegString(h, WindowsCurrentVersion, "EditionID")
	id.InstallationType, _ = RegString(h, WindowsCurrentVersion, "InstallationType")
	product, _ := RegString(h, WindowsCurrentVersion, "ProductName")
	id.Name = device.WindowsName(product, id.Version)
	if dv, err := RegString(h, WindowsCurrentVersion, "DisplayVersion"); err == nil && dv != "" {
		id.Name += " " + dv
	}
	if _, ok := ParseVersion(id.Version); !ok {
		return Identity{}, fmt.Errorf("the Windows build %q in %s is not a number", id.Version, WindowsCurrentVersion)
	}
	return id, nil
}

func macIdentity(ctx context.Context, h host.Host) (Identity, error) {
	b, err := h.ReadFile(SystemVersionPlist)
	if err == nil {
		var sv struct {
			ProductName    string `plist:"ProductName"`
			ProductVersion string `plist:"ProductVersion"`
		}
		if _, perr := plistval.Unmarshal(b, &sv); perr == nil && sv.ProductVersion != "" {
			return Identity{Platform: "macos", Version: sv.ProductVersion, Name: strings.TrimSpace(sv.ProductName + " " + sv.ProductVersion), Source: SystemVersionPlist + " ProductVersion"}, nil
		}
		err = errors.New("no ProductVersion in it")
	}
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, rerr := h.Run(ctx, swVersPath, "-productVersion")
	if rerr == nil && out.ExitCode == 0 {
		if v := strings.TrimSpace(string(out.Stdout)); v != "" {
			return Identity{Platform: "macos", Version: v, Name: "macOS " + v, Source: "sw_vers -productVersion"}, nil
		}
	}
	return Identity{}, fmt.Errorf("read the macOS version: %s: %v; sw_vers: %v", SystemVersionPlist, err, runErr(rerr, out))
}

func runErr(err error, out host.Output) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("exited %d", out.ExitCode)
}

func linuxIdentity(h host.Host) (Identity, error) {
	var errs []string
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := h.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		kv := device.ParseOSRelease(b)
		platform := LinuxPlatform(kv["ID"])
		if platform == "opensuse-leap" && strings.Contains(strings.ToLower(kv["NAME"]), "tumbleweed") {
			// Tumbleweed before 2017 said ID=opensuse, as Leap does.
			platform = "opensuse-tumbleweed"
		}
		id := Identity{Platform: platform, Version: kv["VERSION_ID"], Name: kv["PRETTY_NAME"], Source: p + " ID, VERSION_ID"}
		if id.Name == "" {
			id.Name = strings.TrimSpace(kv["NAME"] + " " + kv["VERSION_ID"])
		}
		if id.Platform == "" {
			return Identity{}, fmt.Errorf("%s has no ID", p)
		}
		return id, nil
	}
	return Identity{}, fmt.Errorf("read os-release: %s", strings.Join(errs, "; "))
}

// LinuxPlatform maps an os-release ID to the table's platform name.
func LinuxPlatform(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	switch id {
	case "sled", "sles_sap":
		return "sles"
	case "opensuse":
		return "opensuse-leap"
	}
	return id
}
