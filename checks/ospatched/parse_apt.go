package ospatched

import (
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// aptPlan is what `apt-get -s dist-upgrade` would do.
type aptPlan struct {
	total    int
	security []Update
}

// parseAptSimulation reads the Inst lines of `apt-get -s dist-upgrade`
// (LANG=C), e.g.
//
//	Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
//
// An update is a security one when any archive it comes from is a
// -security suite (Debian-Security, jammy-security, ESM's
// jammy-infra-security...).
func parseAptSimulation(b []byte) aptPlan {
	var p aptPlan
	for line := range textlines.Each(b) {
		line = strings.TrimRight(line, "\r")
		rest, ok := strings.CutPrefix(line, "Inst ")
		if !ok {
			continue
		}
		p.total++
		name, rest, _ := strings.Cut(rest, " ")
		open := strings.IndexByte(rest, '(')
		close := strings.LastIndexByte(rest, ')')
		if open < 0 || close < open {
			continue
		}
		inner := rest[open+1 : close]
		version, origins, _ := strings.Cut(inner, " ")
		if i := strings.LastIndex(origins, " ["); i >= 0 {
			origins = origins[:i]
		}
		if isSecurityOrigin(origins) {
			p.security = append(p.security, Update{Name: name, Version: version, Origin: origins})
		}
	}
	return p
}

func isSecurityOrigin(origins string) bool {
	for _, o := range strings.Split(origins, ",") {
		o = strings.TrimSpace(o)
		_, suite, _ := strings.Cut(o, "/")
		if strings.HasSuffix(suite, "-security") || strings.HasPrefix(o, "Debian-Security:") {
			return true
		}
	}
	return false
}

// parseAptCheck reads update-notifier's apt-check, which prints
// "UPDATES;SECURITY" to stderr.
func parseAptCheck(b []byte) (total, security int, ok bool) {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	a, c, found := strings.Cut(s, ";")
	if !found {
		return 0, 0, false
	}
	t, err1 := strconv.Atoi(a)
	sec, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || t < 0 || sec < 0 {
		return 0, 0, false
	}
	return t, sec, true
}

// lastDpkgUpgrade finds the newest "upgrade" action in dpkg.log, whose
// lines read "2024-05-01 10:00:00 upgrade pkg:amd64 old new". dpkg writes
// local time without a zone; it is read as UTC, which is close enough for
// a grace period counted in days.
func lastDpkgUpgrade(b []byte) (time.Time, bool) {
	var last time.Time
	for line := range textlines.Each(b) {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "upgrade" {
			continue
		}
		if t, err := time.Parse(time.DateTime, f[0]+" "+f[1]); err == nil && t.After(last) {
			last = t
		}
	}
	return last, !last.IsZero()
}

// lastAptHistoryUpgrade finds the newest apt history entry of a full
// update run: a "Start-Date: 2024-05-01  10:00:00" block with an Upgrade:
// line whose Commandline is an upgrade (apt upgrade, full-upgrade,
// dist-upgrade, unattended-upgrade). Installing one package that drags
// in upgraded dependencies does not count.
func lastAptHistoryUpgrade(b []byte) (time.Time, bool) {
	var last, start time.Time
	var upgraded, upgradeCmd bool
	flush := func() {
		if upgraded && upgradeCmd && start.After(last) {
			last = start
		}
		upgraded, upgradeCmd, start = false, false, time.Time{}
	}
	for line := range textlines.Each(b) {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "Start-Date:"):
			flush()
			v := strings.TrimPrefix(line, "Start-Date:")
			if t, err := time.Parse(time.DateTime, strings.Join(strings.Fields(v), " ")); err == nil {
				start = t
			}
		case strings.HasPrefix(line, "Commandline:"):
			upgradeCmd = isUpgradeCommand(strings.Fields(strings.TrimPrefix(line, "Commandline:")))
		case strings.HasPrefix(line, "Upgrade:"):
			upgraded = true
		case strings.HasPrefix(line, "End-Date:"):
			flush()
		}
	}
	flush()
	return last, !last.IsZero()
}

func isUpgradeCommand(args []string) bool {
	for i, a := range args {
		if i == 0 && strings.HasSuffix(a, "unattended-upgrade") {
			return true
		}
		switch a {
		case "upgrade", "full-upgrade", "dist-upgrade":
			return true
		}
	}
	return false
}
