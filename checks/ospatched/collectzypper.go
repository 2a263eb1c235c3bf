package ospatched

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/ini"
)

// zypper's exit codes that still come with a listing: 0, and 106 when
// some repositories were skipped (the listing then lacks their patches).
const (
	zypperExitLocked       = 7
	zypperExitReposSkipped = 106
)

// isSUSE reports an os-release ID of the SUSE family.
func isSUSE(platform string) bool {
	return platform == "sles" || platform == "sled" || strings.HasPrefix(platform, "opensuse") || strings.HasPrefix(platform, "sl-micro") || platform == "suse"
}

// zypperSearch lists the needed security patches as XML, which is not
// localized. zypper takes the zypp lock and may refresh expired
// repositories, so the search is slow and cached like dnf's.
func zypperSearch(h host.Host) search {
	return search{name: "zypper", ttl: zypperTTL, timeout: dnfTimeout, run: func(ctx context.Context) (*Pending, error) {
		const name = "zypper list-patches --category security"
		out, err := h.Run(ctx, zypperPath, "--non-interactive", "--xmlout", "list-patches", "--category", "security")
		if err != nil {
			return nil, toolError(name, out, err)
		}
		list, perr := parseZypperPatches(out.Stdout)
		switch {
		case perr != nil && out.ExitCode == zypperExitLocked:
			return nil, fmt.Errorf("%s: another program holds the package manager lock (exit 7): %s", name, strings.Join(list.errors, "; "))
		case perr != nil && out.ExitCode != 0:
			return nil, toolError(name, host.Output{Stderr: []byte(errorOr(list.errors, string(out.Stderr))), ExitCode: out.ExitCode}, nil)
		case perr != nil:
			return nil, fmt.Errorf("%s: %w", name, perr)
		case out.ExitCode != 0 && out.ExitCode != zypperExitReposSkipped:
			return nil, toolError(name, host.Output{Stderr: []byte(errorOr(list.errors, string(out.Stderr))), ExitCode: out.ExitCode}, nil)
		}
		p := newPending(h, name, -1, list.security)
		if len(list.errors) > 0 || out.ExitCode == zypperExitReposSkipped {
			p.Incomplete = fmt.Sprintf("zypper could not load every repository (exit %d): %s", out.ExitCode, errorOr(list.errors, "some repositories were skipped"))
		}
		return p, nil
	}}
}

func errorOr(msgs []string, fallback string) string {
	if len(msgs) > 0 {
		return msgs[0]
	}
	return fallback
}

// zypperLastPatch is when a needed patch was last applied, from zypp's
// history. A history without one is no record of patching (packages
// installed since do not count); only without any history does the rpm
// database's last change stand in.
func zypperLastPatch(h host.Host, f *Facts) *Stamp {
	hist, why := zyppHistoryPath(h, f)
	b, err := h.ReadFile(hist)
	switch {
	case err == nil:
		if t, ok := lastZyppPatch(b); ok {
			return &Stamp{At: t, Source: hist + " (" + why + "; newest needed patch applied)"}
		}
		f.Notes = append(f.Notes, hist+" ("+why+") records no needed patch being applied")
		return nil
	case !errors.Is(err, host.ErrNotFound):
		f.Notes = append(f.Notes, fmt.Sprintf("read %s (%s): %v", hist, why, err))
	}
	return rpmLastPatch(h)
}

// zypp's configuration, which can move its history log
// (history.logfile in [main], zypp.conf(5)): the administrator's file,
// else the vendor's (/usr/etc on distributions that split them).
var zyppConfs = []string{"/etc/zypp/zypp.conf", "/usr/etc/zypp/zypp.conf"}

// zyppHistoryPath returns zypp's history log and why: history.logfile
// of the first zypp.conf present, else libzypp's default. A zypp.conf
// that exists but cannot be read is noted, since it may move the log.
func zyppHistoryPath(h host.Host, f *Facts) (p, why string) {
	for _, conf := range zyppConfs {
		b, err := h.ReadFile(conf)
		switch {
		case errors.Is(err, host.ErrNotFound):
			continue
		case err != nil:
			f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", conf, err))
			return zyppHistory, "libzypp's default; " + conf + " could not be read"
		}
		if v := ini.Parse(b)["main"]["history.logfile"]; path.IsAbs(v) {
			return path.Clean(v), "history.logfile in " + conf
		}
		return zyppHistory, "libzypp's default"
	}
	return zyppHistory, "libzypp's default"
}
