package antivirus

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
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
	dbs, foundBy := clamDatabases(ctx, h, f)
	if len(dbs) == 0 {
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
	if db, ok := newestDaily(dbs); ok {
		built := db.header.Built
		p.Definitions = &Definitions{Updated: &built, Version: fmt.Sprint(db.header.Version), Source: db.source}
	} else {
		p.UpToDate = flag(false, "no ClamAV database in "+strings.Join(clamDBDirs[goos], " or "))
	}
	if goos == "linux" {
		clamServices(ctx, h, p, f)
	} else {
		p.RealTime = flag(false, "ClamAV has no on-access scanner on macOS")
	}
	p.Scheduled = scheduledClamScan(h)
	return p
}

func clamDatabases(ctx context.Context, h host.Host, f *Facts) ([]clamDB, string) {
	var dbs []clamDB
	var foundBy string
	for _, dir := range clamDBDirs[h.GOOS()] {
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
	return hdr, path.Base(p) + " header build time", nil
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
		return
	}
	states := parseIsActive(out.Stdout, clamUnits)
	if states == nil {
		f.Notes = append(f.Notes, "ClamAV service state: systemctl is-active gave no per-unit answer: "+firstLine(append(out.Stderr, out.Stdout...)))
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
	for _, p := range files {
		b, err := h.ReadFile(p)
		if err != nil || !mentionsScanner(b) {
			continue
		}
		if strings.HasSuffix(p, ".service") {
			timer := strings.TrimSuffix(p, ".service") + ".timer"
			if ok, _ := exists(h, timer); !ok {
				continue
			}
			return flag(true, timer+" runs "+path.Base(p))
		}
		return flag(true, p+" runs clamscan")
	}
	return flag(false, "no cron job, systemd timer or launchd job runs clamscan or clamdscan")
}
