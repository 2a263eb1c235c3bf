package device

import (
	"context"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
)

const systemVersionPlist = "/System/Library/CoreServices/SystemVersion.plist"

func collectDarwin(ctx context.Context, h host.Host, in *Info) {
	for _, argv := range [][]string{{"/usr/sbin/scutil", "--get", "ComputerName"}, {"/bin/hostname"}} {
		cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
		out, err := h.Run(cctx, argv[0], argv[1:]...)
		cancel()
		if err == nil && out.ExitCode == 0 && firstLine(out.Stdout) != "" {
			in.set("hostname", firstLine(out.Stdout), argv[0])
			break
		}
	}
	if b, err := h.ReadFile(systemVersionPlist); err == nil {
		var sv struct {
			ProductName    string `plist:"ProductName"`
			ProductVersion string `plist:"ProductVersion"`
		}
		if _, err := plistval.Unmarshal(b, &sv); err == nil {
			in.set("os_name", sv.ProductName, systemVersionPlist+" ProductName")
			in.set("os_version", sv.ProductVersion, systemVersionPlist+" ProductVersion")
		}
	}
	uname(ctx, h, in)
}
