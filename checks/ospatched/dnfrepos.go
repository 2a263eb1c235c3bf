package ospatched

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/ini"
)

// dnf's configuration: dnf.conf's reposdir moves the repository files.
const dnfConf = "/etc/dnf/dnf.conf"

// defaultRepoDirs are dnf's reposdir when dnf.conf sets none.
var defaultRepoDirs = []string{"/etc/yum.repos.d", "/etc/yum/repos.d", "/etc/distro.repos.d"}

// dnfRepos lists the enabled repositories of the .repo files in dnf's
// reposdir (enabled is the default).
func dnfRepos(h host.Host) ([]string, string, error) {
	dirs := defaultRepoDirs
	if b, err := h.ReadFile(dnfConf); err == nil {
		if v, ok := ini.Parse(b)["main"]["reposdir"]; ok {
			dirs = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		}
	} else if !errors.Is(err, host.ErrNotFound) {
		return nil, "", fmt.Errorf("read %s: %w", dnfConf, err)
	}
	var enabled []string
	for _, d := range dirs {
		files, err := h.Glob(path.Join(d, "*.repo"))
		if err != nil && !errors.Is(err, host.ErrNotFound) {
			return nil, "", fmt.Errorf("list %s: %w", d, err)
		}
		for _, f := range files {
			b, err := h.ReadFile(f)
			if err != nil {
				return nil, "", fmt.Errorf("read %s: %w", f, err)
			}
			for id, kv := range ini.Parse(b) {
				if id == "" {
					continue
				}
				if on, ok := ini.Bool(kv["enabled"]); ok && !on {
					continue
				}
				enabled = append(enabled, id)
			}
		}
	}
	sort.Strings(enabled)
	return enabled, strings.Join(dirs, ", "), nil
}

// dnfSecurityMissing says why dnf's empty answer cannot show pending
// security updates, or "": no repository enabled at all, or on Fedora,
// where fixes are published in the updates repository, no updates
// repository enabled.
func dnfSecurityMissing(h host.Host, platform string) string {
	repos, dirs, err := dnfRepos(h)
	switch {
	case err != nil:
		return "dnf's repositories could not be listed: " + err.Error()
	case len(repos) == 0:
		return "dnf has no enabled repository (reposdir " + dirs + "): nothing can be listed as pending"
	case platform == "fedora":
		for _, r := range repos {
			if r == "updates" || strings.HasPrefix(r, "updates-") && !strings.Contains(r, "testing") {
				return ""
			}
		}
		return "Fedora's updates repository is not enabled (enabled: " + strings.Join(repos, ", ") + "): security fixes are published there, so none can be listed as pending"
	}
	return ""
}
