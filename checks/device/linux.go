package device

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/textlines"
)

func collectLinux(ctx context.Context, h host.Host, in *Info) {
	for _, p := range []string{"/proc/sys/kernel/hostname", "/etc/hostname"} {
		if b, err := h.ReadFile(p); err == nil && firstLine(b) != "" {
			in.set("hostname", firstLine(b), p)
			break
		}
	}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := h.ReadFile(p)
		if err != nil {
			continue
		}
		kv := ParseOSRelease(b)
		in.set("os_name", kv["NAME"], p+" NAME")
		in.set("os_version", kv["VERSION_ID"], p+" VERSION_ID")
		break
	}
	uname(ctx, h, in)
}

// uname asks the kernel for the machine architecture, which may differ
// from the agent's build (a 32-bit agent on a 64-bit system).
func uname(ctx context.Context, h host.Host, in *Info) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(ctx, "/usr/bin/uname", "-m")
	if err == nil && out.ExitCode == 0 && firstLine(out.Stdout) != "" {
		in.set("arch", NormalizeArch(firstLine(out.Stdout)), "uname -m")
	}
}

// ParseOSRelease reads os-release(5): KEY=value lines whose values may be
// shell-quoted.
func ParseOSRelease(b []byte) map[string]string {
	kv := map[string]string{}
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			// Unquote would turn each byte of invalid UTF-8 into a
			// three-byte U+FFFD; such a value keeps its bytes instead.
			if v[0] == '"' && utf8.ValidString(v) {
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				} else {
					v = v[1 : len(v)-1]
				}
			} else {
				v = v[1 : len(v)-1]
			}
		}
		kv[k] = v
	}
	return kv
}
