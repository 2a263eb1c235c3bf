package osdata

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseVersion splits a dotted numeric version ("19045.6332", "15.7.1");
// ok is false when a part is not a number.
func ParseVersion(s string) (v []int, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

// CompareVersions compares dotted versions numerically, a missing part
// counting as 0; unparsable versions compare as strings.
func CompareVersions(a, b string) int {
	va, oka := ParseVersion(a)
	vb, okb := ParseVersion(b)
	if !oka || !okb {
		return strings.Compare(a, b)
	}
	for i := 0; i < max(len(va), len(vb)); i++ {
		var x, y int
		if i < len(va) {
			x = va[i]
		}
		if i < len(vb) {
			y = vb[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// matchVersion reports whether a table version matches the device's and
// how specific the match is (longer wins).
func matchVersion(id Identity, entry string) (int, bool) {
	if entry == "*" {
		return 0, true
	}
	v := id.Version
	switch id.Platform {
	case "windows":
		return len(entry), v == entry
	case "macos":
		return len(entry), macMajor(v) == entry
	}
	if v == entry || strings.HasPrefix(v, entry+".") {
		return len(entry), true
	}
	return 0, false
}

func editionMatches(id Identity, editions []string) bool {
	if len(editions) == 0 {
		return true
	}
	return slices.Contains(editions, EditionClass(id.Edition, id.InstallationType))
}

// FindRelease returns the table entry for the device's release.
func (t *Table) FindRelease(id Identity) (Release, bool) {
	best, bestLen, found := Release{}, -1, false
	for _, r := range t.Releases {
		if r.Platform != id.Platform || !editionMatches(id, r.Editions) {
			continue
		}
		n, ok := matchVersion(id, r.Version)
		// Equally specific versions: an entry naming the device's edition
		// beats one for any edition (LTSB 2015 over Windows 10 1507).
		if ok && (n > bestLen || n == bestLen && len(r.Editions) > 0 && len(best.Editions) == 0) {
			best, bestLen, found = r, n, true
		}
	}
	return best, found
}

// FindBaseline returns the baseline for the device's release.
func (t *Table) FindBaseline(id Identity) (Baseline, bool) {
	best, bestLen, found := Baseline{}, -1, false
	for _, b := range t.Baselines {
		if b.Platform != id.Platform {
			continue
		}
		if n, ok := matchVersion(id, b.Version); ok && n > bestLen {
			best, bestLen, found = b, n, true
		}
	}
	return best, found
}

// Support states.
const (
	StateSupported = "supported"
	StateExtended  = "extended"
	StateEOL       = "end_of_life"
	StateUnknown   = "unknown"
)

// Judgement is the support status of a release at one time.
type Judgement struct {
	State string
	// Release is the matching entry, when there is one.
	Release *Release
	// EOL is the end of standard support (explicit, or derived from the
	// platform's supported_latest rule); zero when none is known.
	EOL Date
	// Extension is the program that keeps an end-of-life release
	// supported, when State is StateExtended.
	Extension *Extension
	// Missed lists programs that would still cover the release if the
	// device were enrolled.
	Missed []Extension
	// Reason explains an unknown state or how an unlisted release was
	// judged.
	Reason string
}

// Judge decides whether the release id is supported at now, given the
// enrolment evidence the device showed (activation IDs, Pro services,
// product files).
func (t *Table) Judge(id Identity, enrolled []string, now time.Time) Judgement {
	r, ok := t.FindRelease(id)
	if !ok {
		return t.judgeUnlisted(id)
	}
	j := Judgement{Release: &r, EOL: r.EOL}
	if j.EOL.IsZero() {
		j.EOL = t.derivedEOL(r)
	}
	if j.EOL.IsZero() || now.Before(j.EOL.End()) {
		j.State = StateSupported
		return j
	}
	for _, x := range r.Extended {
		if !now.Before(x.Until.End()) {
			continue
		}
		if len(x.Requires) == 0 || hasAny(enrolled, x.Requires) {
			j.State, j.Extension = StateExtended, &x
			return j
		}
		j.Missed = append(j.Missed, x)
	}
	j.State = StateEOL
	return j
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// derivedEOL applies supported_latest: a release with no announced end
// loses support when the Nth newer release ships.
func (t *Table) derivedEOL(r Release) Date {
	n := t.Platforms[r.Platform].SupportedLatest
	if n <= 0 {
		return Date{}
	}
	var newer []Release
	for _, o := range t.Releases {
		if o.Platform == r.Platform && CompareVersions(o.Version, r.Version) > 0 {
			newer = append(newer, o)
		}
	}
	if len(newer) < n {
		return Date{}
	}
	slices.SortFunc(newer, func(a, b Release) int { return CompareVersions(a.Version, b.Version) })
	pushedOutBy := newer[n-1]
	if pushedOutBy.Released.IsZero() {
		// Known to be out of support, day unknown: the day it was listed
		// cannot be later than its release, so use the oldest possible.
		return Date{time.Unix(0, 0).UTC()}
	}
	return pushedOutBy.Released
}

func (t *Table) judgeUnlisted(id Identity) Judgement {
	var lo, hi string
	for _, r := range t.Releases {
		if r.Platform != id.Platform || r.Version == "*" {
			continue
		}
		if lo == "" || CompareVersions(r.Version, lo) < 0 {
			lo = r.Version
		}
		if hi == "" || CompareVersions(r.Version, hi) > 0 {
			hi = r.Version
		}
	}
	rules, known := t.Platforms[id.Platform]
	switch {
	case !known && lo == "":
		return Judgement{State: StateUnknown, Reason: fmt.Sprintf("%s is not in the end-of-life table", platformName(id))}
	case id.Version == "":
		return Judgement{State: StateUnknown, Reason: fmt.Sprintf("%s reports no version (a testing or development release?)", platformName(id))}
	case lo != "" && versionBelow(id, lo):
		return unlisted(rules.OlderUnlisted, fmt.Sprintf("%s is older than every listed release (oldest %s)", platformName(id), lo))
	case hi != "" && versionAbove(id, hi):
		return unlisted(rules.NewerUnlisted, fmt.Sprintf("%s is newer than every listed release (newest %s)", platformName(id), hi))
	}
	return Judgement{State: StateUnknown, Reason: fmt.Sprintf("%s is not in the end-of-life table", platformName(id))}
}

func versionBelow(id Identity, v string) bool {
	return CompareVersions(listedPart(id), v) < 0
}

func versionAbove(id Identity, v string) bool {
	return CompareVersions(listedPart(id), v) > 0
}

// listedPart is the part of the device's version the table lists.
func listedPart(id Identity) string {
	if id.Platform == "macos" {
		return macMajor(id.Version)
	}
	return id.Version
}

// macMajor is the macOS release a ProductVersion belongs to: the first
// number from macOS 11 on ("14.8.1" is 14), the first two before it
// ("10.15.7" is 10.15, Catalina).
func macMajor(v string) string {
	major, rest, _ := strings.Cut(v, ".")
	if major == "10" {
		minor, _, _ := strings.Cut(rest, ".")
		return major + "." + minor
	}
	return major
}

func unlisted(rule Unlisted, why string) Judgement {
	switch rule {
	case UnlistedEOL:
		return Judgement{State: StateEOL, Reason: why}
	case UnlistedSupported:
		return Judgement{State: StateSupported, Reason: why}
	}
	return Judgement{State: StateUnknown, Reason: why + "; update the end-of-life table in the policy"}
}

func platformName(id Identity) string {
	if id.Name != "" {
		return fmt.Sprintf("%s (%s %s)", id.Name, id.Platform, id.Version)
	}
	return id.Platform + " " + id.Version
}
