package ospatched

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/aptconfig"
	"github.com/postern-dev/postern/checks/osdata"
)

// Linux sources, by absolute path.
const (
	aptGetPath     = "/usr/bin/apt-get"
	aptCheckPath   = "/usr/lib/update-notifier/apt-check"
	aptCachePath   = "/usr/bin/apt-cache"
	updateStamp    = "/var/lib/apt/periodic/update-success-stamp"
	aptConfigPath  = "/usr/bin/apt-config"
	dpkgLog        = "/var/log/dpkg.log"
	dnfPath        = "/usr/bin/dnf"
	rpmDBSqlite    = "/var/lib/rpm/rpmdb.sqlite"
	rpmDBPackages  = "/var/lib/rpm/Packages"
	dnfHistoryDB   = "/var/lib/dnf/history.sqlite"
	zypperPath     = "/usr/bin/zypper"
	zyppHistory    = "/var/log/zypp/history"
	maxListsStated = 64
)

// Search timeouts and cache lifetimes.
const (
	aptTimeout = 60 * time.Second
	aptTTL     = time.Hour
	dnfTimeout = 3 * time.Minute
	dnfTTL     = 6 * time.Hour
	zypperTTL  = 6 * time.Hour
)

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{}
	if id, err := osdata.ReadIdentity(ctx, h); err == nil {
		f.OS = id
	} else {
		f.OSError = err.Error()
	}
	switch {
	case exists(h, aptGetPath):
		f.Pending, f.PendingError = pendingOrError(shared.get(ctx, h, aptSearch(h)))
		lists, history := aptPaths(ctx, h, f)
		f.LastRefresh = aptRefresh(h, lists)
		f.LastPatch = aptLastPatch(h, f, history)
	case exists(h, zypperPath) && (isSUSE(f.OS.Platform) || !exists(h, dnfPath)):
		f.Pending, f.PendingError = pendingOrError(shared.get(ctx, h, zypperSearch(h)))
		f.LastPatch = zypperLastPatch(h, f)
		f.Notes = append(f.Notes, "zypper refreshes repositories whose metadata has expired before listing patches")
	case exists(h, dnfPath):
		f.Pending, f.PendingError = pendingOrError(shared.get(ctx, h, dnfSearch(h)))
		if f.Pending != nil && f.Pending.Security == 0 && f.Pending.Incomplete == "" {
			// A copy: the cached answer is shared between collections.
			p := *f.Pending
			p.Incomplete = dnfSecurityMissing(h, f.OS.Platform)
			f.Pending = &p
		}
		f.LastPatch = rpmLastPatch(h)
		f.Notes = append(f.Notes, "dnf refreshes expired metadata itself before listing advisories")
	default:
		f.PendingError = "no supported package manager was found (apt-get, zypper, dnf)"
	}
	return f, nil
}

func pendingOrError(p *Pending, err error) (*Pending, string) {
	if err != nil {
		return nil, err.Error()
	}
	return p, ""
}

func exists(h host.Host, p string) bool {
	_, err := h.Stat(p)
	return err == nil
}

func aptSearch(h host.Host) search {
	return search{name: "apt", ttl: aptTTL, timeout: aptTimeout, run: func(ctx context.Context) (*Pending, error) {
		out, err := h.Run(ctx, aptGetPath, "-s", "-o", "Debug::NoLocking=1", "dist-upgrade")
		if err == nil && out.ExitCode == 0 {
			plan := parseAptSimulation(out.Stdout)
			p := newPending(h, "apt-get -s dist-upgrade", plan.total, plan.security)
			p.Incomplete = aptSecurityMissing(ctx, h)
			return p, nil
		}
		first := toolError("apt-get -s dist-upgrade", out, err)
		// update-notifier's helper gives counts only (Ubuntu).
		cout, cerr := h.Run(ctx, aptCheckPath)
		if cerr == nil {
			if total, sec, ok := parseAptCheck(cout.Stderr); ok {
				p := newPending(h, "apt-check", total, nil)
				p.Security = sec
				p.Incomplete = aptSecurityMissing(ctx, h)
				return p, nil
			}
		}
		return nil, first
	}}
}

// aptSecurityMissing says why apt's answer cannot show pending security
// updates, or "" when it can: a machine whose sources have no -security
// suite (what debootstrap and many hand-made sources.list leave) lists
// none, however many are published.
func aptSecurityMissing(ctx context.Context, h host.Host) string {
	out, err := h.Run(ctx, aptCachePath, "policy")
	if err != nil || out.ExitCode != 0 {
		return "apt's package sources could not be listed: " + toolError("apt-cache policy", out, err).Error()
	}
	s := parseAptPolicy(out.Stdout)
	switch {
	case s.security || s.rolling:
		return ""
	case len(s.archives) == 0:
		return "apt has no package lists (apt-cache policy lists no source): nothing can be listed as pending"
	}
	return "apt's sources have no security suite (apt-cache policy lists " + strings.Join(s.archives, ", ") + "): security updates are published there, so none can be listed as pending"
}

func dnfSearch(h host.Host) search {
	return search{name: "dnf", ttl: dnfTTL, timeout: dnfTimeout, run: func(ctx context.Context) (*Pending, error) {
		out, err := h.Run(ctx, dnfPath, "-q", "updateinfo", "list", "--security")
		if err != nil || out.ExitCode != 0 {
			return nil, toolError("dnf updateinfo list --security", out, err)
		}
		return newPending(h, "dnf updateinfo list --security", -1, parseDnfSecurity(out.Stdout)), nil
	}}
}

// newPending fills the count from the list and keeps at most maxUpdates.
func newPending(h host.Host, source string, total int, sec []Update) *Pending {
	p := &Pending{Source: source, CheckedAt: host.Now(h), Total: total, Security: len(sec)}
	if len(sec) > maxUpdates {
		sec = sec[:maxUpdates]
	}
	p.Updates = sec
	return p
}

// toolError explains a failed package tool with the first line of its
// complaint.
func toolError(name string, out host.Output, err error) error {
	if errors.Is(err, host.ErrNotFound) {
		return fmt.Errorf("%s: the program is not installed", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	msg := strings.TrimSpace(string(out.Stderr))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return fmt.Errorf("%s exited %d: %s", name, out.ExitCode, msg)
}

// aptPaths returns where this machine's apt keeps its package lists and
// its history log: apt.conf can move both (Dir, Dir::State,
// Dir::State::lists, Dir::Log, Dir::Log::History, RootDir), and
// `apt-config dump` is apt's own merge of every file. When it cannot
// answer, apt's files are read in apt's order (aptconfig.ReadFiles);
// when those cannot be read either, apt's defaults are used and a note
// says so.
func aptPaths(ctx context.Context, h host.Host, f *Facts) (lists, history string) {
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	conf := map[string]string{}
	out, err := h.Run(cctx, aptConfigPath, "dump")
	if err == nil && out.ExitCode == 0 && len(out.Stdout) > 0 {
		conf = aptconfig.Parse(out.Stdout, aptconfig.Kept)
	} else {
		why := toolError("apt-config dump", out, err).Error()
		read, _, rerr := aptconfig.ReadFiles(h, aptconfig.Kept)
		switch {
		case read == nil:
			f.Notes = append(f.Notes, "apt's directories are its defaults: "+why+"; "+rerr.Error())
		case rerr != nil:
			conf = read
			f.Notes = append(f.Notes, "apt's directories are read from its files ("+why+"), some of which could not be read: "+rerr.Error())
		default:
			conf = read
		}
	}
	return aptconfig.FindDir(conf, "Dir::State::lists"), aptconfig.FindFile(conf, "Dir::Log::History")
}

// aptRefresh is when the package lists were last refreshed: the periodic
// job's success stamp, else the newest Release file in lists.
func aptRefresh(h host.Host, lists string) *Stamp {
	if fi, err := h.Stat(updateStamp); err == nil {
		return &Stamp{At: fi.ModTime.UTC(), Source: updateStamp}
	}
	paths, err := h.Glob(lists + "*Release")
	if err != nil || len(paths) == 0 {
		return nil
	}
	if len(paths) > maxListsStated {
		paths = paths[:maxListsStated]
	}
	var newest time.Time
	for _, p := range paths {
		if fi, err := h.Stat(p); err == nil && fi.ModTime.After(newest) {
			newest = fi.ModTime
		}
	}
	if newest.IsZero() {
		return nil
	}
	return &Stamp{At: newest.UTC(), Source: strings.TrimSuffix(lists, "/") + " (newest Release file)"}
}

// aptLastPatch is when a full update last ran, from apt's history at
// historyLog (the current log, then the last rotated one); without any
// apt history, dpkg.log's newest upgrade of any package stands in.
func aptLastPatch(h host.Host, f *Facts, historyLog string) *Stamp {
	haveHistory := false
	for _, p := range []string{historyLog, historyLog + ".1.gz"} {
		b, err := h.ReadFile(p)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", p, err))
			}
			continue
		}
		haveHistory = true
		if strings.HasSuffix(p, ".gz") {
			if b, err = gunzip(b); err != nil {
				f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", p, err))
				continue
			}
		}
		if t, ok := lastAptHistoryUpgrade(b); ok {
			return &Stamp{At: t, Source: p}
		}
	}
	if haveHistory {
		f.Notes = append(f.Notes, "apt's history records no full upgrade (apt upgrade or unattended-upgrade)")
		return nil
	}
	log := dpkgLogPath(h)
	f.Notes = append(f.Notes, log.errors...)
	b, err := h.ReadFile(log.path)
	switch {
	case err == nil:
		if t, ok := lastDpkgUpgrade(b); ok {
			return &Stamp{At: t, Source: log.describe() + ", newest upgrade of any package"}
		}
		f.Notes = append(f.Notes, log.describe()+" records no package upgrade")
	case errors.Is(err, host.ErrNotFound):
		f.Notes = append(f.Notes, "no apt history and no dpkg log: "+log.describe()+" does not exist")
	default:
		f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", log.describe(), err))
	}
	return nil
}

// gunzip inflates a rotated log, bounded like any file read.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, host.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(out) > host.MaxFileSize {
		return nil, host.ErrTooLarge
	}
	return out, nil
}

// rpmLastPatch is when the rpm database last changed: any package
// installed, upgraded or removed.
func rpmLastPatch(h host.Host) *Stamp {
	for _, p := range []string{rpmDBSqlite, rpmDBPackages, dnfHistoryDB} {
		if fi, err := h.Stat(p); err == nil {
			return &Stamp{At: fi.ModTime.UTC(), Source: p + " (last change)"}
		}
	}
	return nil
}
