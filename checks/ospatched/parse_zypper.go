package ospatched

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// zypperStream is the part of `zypper --xmlout list-patches` (and
// `list-updates -t patch`) that matters here. While a patch to the
// package manager itself is pending, zypper lists it alone in
// update-list and holds every other needed patch back in
// blocked-update-list; both are pending.
type zypperStream struct {
	Messages []struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"message"`
	Status *struct {
		Updates []zypperUpdate `xml:"update-list>update"`
		Blocked []zypperUpdate `xml:"blocked-update-list>update"`
	} `xml:"update-status"`
}

type zypperUpdate struct {
	Kind     string `xml:"kind,attr"`
	Name     string `xml:"name,attr"`
	Edition  string `xml:"edition,attr"`
	Status   string `xml:"status,attr"`
	Category string `xml:"category,attr"`
	Severity string `xml:"severity,attr"`
	Summary  string `xml:"summary"`
	Issued   struct {
		TimeT string `xml:"time_t,attr"`
	} `xml:"issue-date"`
}

// zypperPatches is what one listing says.
type zypperPatches struct {
	needed   int      // needed patches of any category
	security []Update // needed security patches
	// errors are zypper's error messages: a repository that could not be
	// loaded, the zypp lock held by another program.
	errors []string
}

// parseZypperPatches reads zypper's XML. A stream without update-status
// (zypper stopped before listing) is an error carrying zypper's own
// message. A patch counts when it is needed (older zypper omits status
// and lists only needed ones); a security one when its category is
// security.
func parseZypperPatches(b []byte) (zypperPatches, error) {
	var s zypperStream
	var out zypperPatches
	if err := xml.Unmarshal(b, &s); err != nil {
		return out, fmt.Errorf("decode zypper's XML: %w", err)
	}
	for _, m := range s.Messages {
		if m.Type == "error" {
			out.errors = append(out.errors, firstLine(m.Text))
		}
	}
	if s.Status == nil {
		if len(out.errors) > 0 {
			return out, fmt.Errorf("zypper listed no patches: %s", out.errors[0])
		}
		return out, fmt.Errorf("zypper's output has no update-status element")
	}
	for _, u := range append(append([]zypperUpdate(nil), s.Status.Updates...), s.Status.Blocked...) {
		if u.Kind != "" && u.Kind != "patch" {
			continue
		}
		if u.Status != "" && u.Status != "needed" {
			continue
		}
		out.needed++
		if !strings.EqualFold(u.Category, "security") {
			continue
		}
		up := Update{Name: u.Name, Version: u.Edition, Origin: strings.TrimSpace(u.Summary), Severity: u.Severity}
		if n, err := strconv.ParseInt(u.Issued.TimeT, 10, 64); err == nil && n > 0 {
			t := time.Unix(n, 0).UTC()
			up.Released = &t
		}
		out.security = append(out.security, up)
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

// lastZyppPatch finds in /var/log/zypp/history the newest patch that went
// from needed to applied, i.e. a fix installed by `zypper patch`, an
// update or the automatic updater. Lines read
// "2026-10-02 14:22:18|patch  |NAME|EDITION|ARCH|REPO|SEVERITY|CATEGORY|OLD|NEW|".
// Patches that become applied as a side effect of installing new
// packages (not-needed to applied) do not count. The time is local and
// read as UTC, close enough for a grace period counted in days.
func lastZyppPatch(b []byte) (time.Time, bool) {
	var last time.Time
	for line := range textlines.Each(b) {
		f := strings.Split(line, "|")
		if len(f) < 10 || strings.TrimSpace(f[1]) != "patch" {
			continue
		}
		if strings.TrimSpace(f[8]) != "needed" || strings.TrimSpace(f[9]) != "applied" {
			continue
		}
		if t, err := time.Parse(time.DateTime, strings.TrimSpace(f[0])); err == nil && t.After(last) {
			last = t
		}
	}
	return last, !last.IsZero()
}
