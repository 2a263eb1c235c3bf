package antivirus

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/scheduler"
	"github.com/postern-dev/postern/checks/internal/textlines"
)

// ClamAV's database directories and programs per OS (Debian, Fedora and
// source builds on Linux; Homebrew on macOS).
var (
	clamDBDirs = map[string][]string{
		"linux":  {"/var/lib/clamav", "/usr/local/share/clamav"},
		"darwin": {"/opt/homebrew/var/lib/clamav", "/usr/local/var/lib/clamav"},
	}
	clamPrograms = map[string][]string{
		"linux":  {"/usr/bin/clamscan", "/usr/sbin/clamd", "/usr/bin/freshclam", "/usr/local/bin/clamscan"},
		"darwin": {"/opt/homebrew/bin/clamscan", "/usr/local/bin/clamscan"},
	}
	clamDBNames = []string{"daily.cld", "daily.cvd", "main.cld", "main.cvd", "bytecode.cld", "bytecode.cvd"}
	// clamConfigs are where freshclam.conf and clamd.conf live (Debian,
	// Fedora/RHEL, source builds; Homebrew on macOS). Their
	// DatabaseDirectory moves the databases away from the built-in
	// directory, and then the built-in one is not where definitions are.
	clamConfigs = map[string][]string{
		"linux": {
			"/etc/clamav/freshclam.conf", "/etc/clamav/clamd.conf",
			"/etc/freshclam.conf", "/etc/clamd.d/scan.conf",
			"/usr/local/etc/freshclam.conf", "/usr/local/etc/clamd.conf",
		},
		"darwin": {
			"/opt/homebrew/etc/clamav/freshclam.conf", "/opt/homebrew/etc/clamav/clamd.conf",
			"/usr/local/etc/clamav/freshclam.conf", "/usr/local/etc/clamav/clamd.conf",
		},
	}
	// clamOnAccess are the on-access scanner's programs.
	clamOnAccess = []string{"/usr/sbin/clamonacc", "/usr/bin/clamonacc", "/usr/local/sbin/clamonacc", "/usr/local/bin/clamonacc"}
)

const (
	headPath      = "/usr/bin/head"
	systemctlPath = "/usr/bin/systemctl"
)

// clamUnits are the systemd units of Debian/Ubuntu and of Fedora/RHEL.
var clamUnits = []string{
	"clamav-freshclam.service", "clamav-daemon.service", "clamav-clamonacc.service",
	"clamd@scan.service", "clamonacc.service",
}

type clamDB struct {
	path   string
	header cvdHeader
	source string
}

// collectClamAV finds ClamAV and reads the build time of its newest daily
// database, its on-access scanner and any scheduled scan. It returns nil
// when ClamAV is not installed.
func collectClamAV(ctx context.Context, h host.Host, f *Facts) *Product {
	goos := h.GOOS()
	dirs, confs := clamDirs(h, f)
	configured := len(confs) > 0
	dbs, foundBy := clamDatabases(ctx, h, f, dirs)
	if len(dbs) == 0 && configured {
		// ClamAV's own configuration is there: it is installed, and its
		// databases are missing from where it says they are.
		foundBy = confs[0]
	}
	if foundBy == "" {
		for _, p := range clamPrograms[goos] {
			if ok, _ := exists(h, p); ok {
				foundBy = p
				break
			}
		}
		if foundBy == "" {
			return nil
		}
	}
	p := &Product{Kind: KindClamAV, Name: "ClamAV", FoundBy: foundBy}
	judged, ok := newestDaily(dbs)
	if configured {
		judged, ok = judgedDatabase(dbs)
	}
	if ok {
		built := judged.header.Built
		p.Definitions = &Definitions{Updated: &built, Version: fmt.Sprint(judged.header.Version), Source: judged.source}
	} else {
		where := strings.Join(dirs, " or ")
		if configured {
			where += " (DatabaseDirectory of " + strings.Join(confs, ", ") + ")"
		}
		p.UpToDate = flag(false, "no ClamAV database in "+where)
	}
	if goos == "linux" {
		clamServices(ctx, h, p, f)
	} else {
		p.RealTime = flag(false, "ClamAV has no on-access scanner on macOS")
	}
	p.Scheduled = scheduledClamScan(h)
	return p
}

// clamDirs returns the database directories to read: those named by
// DatabaseDirectory in ClamAV's configuration files, else the built-in ones.
// by names the configuration files that set them (nil for the built-in).
func clamDirs(h host.Host, f *Facts) (dirs, by []string) {
	seen := map[string]bool{}
	for _, conf := range clamConfigs[h.GOOS()] {
		b, err := h.ReadFile(conf)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				f.Notes = append(f.Notes, fmt.Sprintf("read %s: %v", conf, err))
			}
			continue
		}
		if dir, ok := clamConfValue(b, "DatabaseDirectory"); ok && !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
			by = append(by, conf)
		}
	}
	if len(dirs) > 0 {
		return dirs, by
	}
	return clamDBDirs[h.GOOS()], nil
}

// clamConfValue reads one option of a clamd.conf(5)/freshclam.conf(5)
// file: "Name value" lines, # comments; the last occurrence wins.
func clamConfValue(b []byte, name string) (string, bool) {
	v, found := "", false
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, rest, _ := strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
		if strings.EqualFold(k, name) {
			rest = strings.Trim(strings.TrimSpace(rest), `"`)
			if rest != "" {
				v, found = path.Clean(rest), true
			}
		}
	}
	return v, found
}

func clamDatabases(ctx context.Context, h host.Host, f *Facts, dirs []string) ([]clamDB, string) {
	var dbs []clamDB
	var foundBy string
	for _, dir := range dirs {
		for _, name := range clamDBNames {
			p := path.Join(dir, name)
			info, err := h.Stat(p)
			if err != nil {
				if !errors.Is(err, host.ErrNotFound) {
					f.Notes = append(f.Notes, fmt.Sprintf("stat %s: %v", p, err))
				}
				continue
			}
			if foundBy == "" {
				foundBy = p
			}
			hdr, src, err := readCVDHeader(ctx, h, p)
			if err != nil {
				// The header is unreadable: the file's modification time
				// is when freshclam last wrote it, an upper bound on
				// freshness rather than the build time.
				mt := info.ModTime
				f.Notes = append(f.Notes, fmt.Sprintf("%s: %v; using its modification time", p, err))
				dbs = append(dbs, clamDB{path: p, header: cvdHeader{Built: mt}, source: "modification time of " + p})
				continue
			}
			dbs = append(dbs, clamDB{path: p, header: hdr, source: src})
		}
	}
	return dbs, foundBy
}

// readCVDHeader reads the first 512 bytes of a database. The host reads
// whole files of at most 4 MiB and the daily database is larger, so the
// header comes from head(1); small files are read directly when head is
// missing.
func readCVDHeader(ctx context.Context, h host.Host, p string) (cvdHeader, string, error) {
	out, err := run(ctx, h, host.DefaultCommandTimeout, headPath, "-c", "512", p)
	var b []byte
	switch {
	case err == nil && out.ExitCode == 0:
		b = out.Stdout
	default:
		if err == nil {
			err = exitError("head", out)
		}
		rb, rerr := h.ReadFile(p)
		if rerr != nil {
			return cvdHeader{}, "", fmt.Errorf("read header: %v; %v", err, rerr)
		}
		b = rb
	}
	hdr, perr := parseCVDHeader(b)
	if perr != nil {
		return cvdHeader{}, "", perr
	}
	return hdr, p + " header build time", nil
}

// judgedDatabase is the database whose age is judged: each directory's
// newest daily one, and of several directories (freshclam.conf and
// clamd.conf naming different ones) the oldest, since a scanner reading a
// directory freshclam does not update is that out of date.
func judgedDatabase(dbs []clamDB) (clamDB, bool) {
	byDir := map[string][]clamDB{}
	var order []string
	for _, db := range dbs {
		d := path.Dir(db.path)
		if _, ok := byDir[d]; !ok {
			order = append(order, d)
		}
		byDir[d] = append(byDir[d], db)
	}
	var judged clamDB
	found := false
	for _, d := range order {
		db, ok := newestDaily(byDir[d])
		if ok && (!found || db.header.Built.Before(judged.header.Built)) {
			judged, found = db, true
		}
	}
	return judged, found
}

// newestDaily picks the daily database (the one freshclam updates several
// times a day); without one, the newest database of any kind.
func newestDaily(dbs []clamDB) (clamDB, bool) {
	var best clamDB
	found := false
	for _, daily := range []bool{true, false} {
		for _, db := range dbs {
			if strings.HasPrefix(path.Base(db.path), "daily.") != daily {
				continue
			}
			if !found || db.header.Built.After(best.header.Built) {
				best, found = db, true
			}
		}
		if found {
			return best, true
		}
	}
	return best, false
}

// clamServices reads the on-access scanner's and freshclam's state from
// systemd.
func clamServices(ctx context.Context, h host.Host, p *Product, f *Facts) {
	args := append([]string{"is-active"}, clamUnits...)
	out, err := run(ctx, h, host.DefaultCommandTimeout, systemctlPath, args...)
	if err != nil {
		f.Notes = append(f.Notes, "ClamAV service state: "+err.Error())
		clamProcesses(h, p, f, err.Error())
		return
	}
	states := parseIsActive(out.Stdout, clamUnits)
	if states == nil {
		why := "systemctl is-active gave no per-unit answer: " + firstLine(append(out.Stderr, out.Stdout...))
		f.Notes = append(f.Notes, "ClamAV service state: "+why)
		clamProcesses(h, p, f, why)
		return
	}
	src := func(units ...string) string {
		parts := make([]string, len(units))
		for i, u := range units {
			parts[i] = u + " " + states[u]
		}
		return "systemctl is-active: " + strings.Join(parts, ", ")
	}
	onAccess := states["clamav-clamonacc.service"] == "active" || states["clamonacc.service"] == "active"
	p.RealTime = flag(onAccess, src("clamav-clamonacc.service", "clamonacc.service"))
	p.AutoUpdate = flag(states["clamav-freshclam.service"] == "active", src("clamav-freshclam.service"))
}

// clamProcesses decides the on-access scanner's state from the files when
// systemd cannot answer (no systemd as init: containers, WSL, chroots,
// sysvinit): without clamonacc installed nothing scans on access, which is
// a fact; with it installed, the process table says whether it runs.
func clamProcesses(h host.Host, p *Product, f *Facts, why string) {
	installed := ""
	for _, prog := range clamOnAccess {
		if ok, _ := exists(h, prog); ok {
			installed = prog
			break
		}
	}
	if installed == "" {
		p.RealTime = flag(false, "clamonacc (ClamAV's on-access scanner) is not installed: none of "+strings.Join(clamOnAccess, ", "))
		return
	}
	running, n, err := scheduler.Running(h, "clamonacc", "freshclam")
	if err != nil {
		return // no process table to read: the state stays unknown
	}
	src := fmt.Sprintf("%s is installed; %d processes in /proc (systemd could not answer: %s)", installed, n, why)
	p.RealTime = flag(running["clamonacc"], "clamonacc process running: "+src)
	p.AutoUpdate = flag(running["freshclam"], "freshclam process running: "+src)
}

// Places where a scheduled clamscan can live.
var (
	cronFiles = []string{"/etc/crontab"}
	cronGlobs = []string{
		"/etc/cron.d/*", "/etc/cron.hourly/*", "/etc/cron.daily/*", "/etc/cron.weekly/*",
		"/var/spool/cron/crontabs/*", "/var/spool/cron/*",
		"/etc/systemd/system/*.service",
		"/Library/LaunchDaemons/*.plist",
	}
)

// maxScheduleFiles bounds how many files are read looking for a schedule.
const maxScheduleFiles = 300

// scheduledClamScan looks for a cron job, systemd service or launchd job
// that runs clamscan or clamdscan.
func scheduledClamScan(h host.Host) *Flag {
	files := append([]string{}, cronFiles...)
	for _, g := range cronGlobs {
		m, _ := h.Glob(g)
		files = append(files, m...)
	}
	if len(files) > maxScheduleFiles {
		files = files[:maxScheduleFiles]
	}
	var idle []string
	for _, p := range files {
		b, err := h.ReadFile(p)
		if err != nil || !mentionsScanner(b) {
			continue
		}
		switch {
		case strings.HasSuffix(p, ".plist"):
			return flag(true, p+" runs clamscan")
		case strings.HasSuffix(p, ".service"):
			timer := strings.TrimSuffix(p, ".service") + ".timer"
			if ok, _ := exists(h, timer); !ok {
				continue
			}
			// A timer does nothing where systemd is not the init.
			if !scheduler.Systemd(h) {
				idle = append(idle, timer+" (systemd is not running)")
				continue
			}
			return flag(true, timer+" runs "+path.Base(p))
		default:
			// A cron job does nothing without a cron daemon to run it.
			c := scheduler.Cron(h)
			switch {
			case c.Known && c.Runs:
				return flag(true, p+" runs clamscan; "+c.Source)
			case !c.Known:
				return nil
			}
			idle = append(idle, p+" ("+c.Source+")")
		}
	}
	if len(idle) > 0 {
		return flag(false, "a scan is scheduled but nothing runs it: "+strings.Join(idle, "; "))
	}
	return flag(false, "no cron job, systemd timer or launchd job runs clamscan or clamdscan")
}
