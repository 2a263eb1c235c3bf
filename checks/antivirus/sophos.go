package antivirus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// Sophos's state files. On Linux, Sophos Protection for Linux (SPL) keeps
// the status it reports to Sophos Central under base/mcs/status: SAV for
// the anti-virus plugin, ALC for the update scheduler. On macOS, Sophos
// Endpoint keeps the on-access state in its preferences and AutoUpdate
// the time of its last update in its cache.
const (
	splSAVStatus      = "/opt/sophos-spl/base/mcs/status/SAV_status.xml"
	splALCStatus      = "/opt/sophos-spl/base/mcs/status/ALC_status.xml"
	splUnit           = "sophos-spl.service"
	sophosMacSAVPrefs = "/Library/Preferences/com.sophos.sav.plist"
	sophosMacAutoUpd  = "/Library/Caches/com.sophos.sau/sophosautoupdate.plist"
)

// collectSophos reads Sophos's on-access state and when it last updated.
// A successful update run installs the newest threat data, so the time of
// the last good update is when the definitions were last known current.
func collectSophos(ctx context.Context, h host.Host, f *Facts) *Product {
	dir := firstExisting(h, sophosPaths[h.GOOS()], f)
	if dir == "" {
		return nil
	}
	p := &Product{Kind: KindSophos, Name: "Sophos", FoundBy: dir}
	switch h.GOOS() {
	case "linux":
		p.Name = "Sophos Protection for Linux"
		sophosLinux(ctx, h, p)
	case "darwin":
		p.Name = "Sophos Endpoint"
		sophosDarwin(h, p)
	}
	return p
}

func sophosLinux(ctx context.Context, h host.Host, p *Product) {
	if st, ok := unitState(ctx, h, splUnit); ok {
		p.Running = flag(st == "active", "systemctl is-active "+splUnit+": "+st)
	}
	if b, ok := readSophosFile(h, p, splSAVStatus, "its anti-virus status (is the AV plugin installed?)"); ok {
		on, err := parseSAVStatus(b)
		switch {
		case err != nil:
			addUnreadable(p, err.Error())
		case on == nil:
			addUnreadable(p, splSAVStatus+" has no on-access state")
		default:
			p.RealTime = flag(*on, fmt.Sprintf("%s on-access=%t", splSAVStatus, *on))
		}
	}
	if b, ok := readSophosFile(h, p, splALCStatus, "its update status"); ok {
		u, err := parseALCStatus(b)
		if err != nil {
			addUnreadable(p, err.Error())
			return
		}
		sophosUpdateFacts(p, u)
	}
}

// sophosUpdateFacts turns the update scheduler's install state into
// definition facts: a good state dates the definitions; a bad one is
// Sophos's own report that updates are failing.
func sophosUpdateFacts(p *Product, u sophosUpdate) {
	switch {
	case u.State == "good" && u.LastGood != nil:
		p.Definitions = &Definitions{Source: splALCStatus,
			Checked: u.LastGood, CheckedSource: splALCStatus + " installState good, lastGood (the last successful Sophos update)"}
	case u.State == "bad":
		since := "an unreported time"
		if u.FailedSince != nil {
			since = u.FailedSince.Format(time.RFC3339)
		}
		p.UpToDate = flag(false, fmt.Sprintf("%s installState bad: Sophos updates have failed since %s", splALCStatus, since))
	default:
		addUnreadable(p, fmt.Sprintf("%s installState %q gives no time of the last good update", splALCStatus, u.State))
	}
}

func sophosDarwin(h host.Host, p *Product) {
	if b, ok := readSophosFile(h, p, sophosMacSAVPrefs, "its real-time scanning state"); ok {
		s, err := parseSophosSAVPlist(b)
		switch {
		case err != nil:
			addUnreadable(p, err.Error())
		case s.OnAccess == nil:
			addUnreadable(p, sophosMacSAVPrefs+" has no OnAccessRunning")
		default:
			p.RealTime = flag(*s.OnAccess, fmt.Sprintf("%s OnAccessRunning=%t", sophosMacSAVPrefs, *s.OnAccess))
		}
		if s.DataReleased != nil {
			p.Definitions = &Definitions{Updated: s.DataReleased, Source: sophosMacSAVPrefs + " SAVIVersion:DataReleaseDate (day precision)"}
		}
	}
	if b, ok := readSophosFile(h, p, sophosMacAutoUpd, "the time of its last update"); ok {
		t, err := parseSophosAutoUpdatePlist(b)
		switch {
		case err != nil:
			addUnreadable(p, err.Error())
		case t == nil:
			addUnreadable(p, sophosMacAutoUpd+" has no LastTimeStamp")
		default:
			if p.Definitions == nil {
				p.Definitions = &Definitions{Source: sophosMacAutoUpd}
			}
			p.Definitions.Checked, p.Definitions.CheckedSource = t, sophosMacAutoUpd+" LastTimeStamp (the last Sophos AutoUpdate)"
		}
	}
}

// readSophosFile reads one state file, recording why it could not be read
// (what names what the file would have told).
func readSophosFile(h host.Host, p *Product, path, what string) ([]byte, bool) {
	b, err := h.ReadFile(path)
	switch {
	case err == nil:
		return b, true
	case errors.Is(err, host.ErrNotFound):
		addUnreadable(p, fmt.Sprintf("%s is missing, so %s is unknown", path, what))
	case errors.Is(err, host.ErrPermission):
		addUnreadable(p, fmt.Sprintf("%s: permission denied (the agent is not running as root)", path))
	default:
		addUnreadable(p, fmt.Sprintf("read %s: %v", path, err))
	}
	return nil, false
}

func addUnreadable(p *Product, why string) {
	if p.Unreadable == "" {
		p.Unreadable = why
		return
	}
	if !strings.Contains(p.Unreadable, why) {
		p.Unreadable += "; " + why
	}
}
