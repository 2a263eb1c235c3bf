package osautoupdate

import (
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/aptconfig"
	"github.com/postern-dev/postern/checks/internal/textlines"
)

// The lists of origins unattended-upgrades installs from
// (unattended-upgrade(8)); a package from any other origin is left alone,
// so with both lists empty it installs nothing. Each is kept in the
// configuration map under its name with "::" appended, its items joined
// by newlines.
const (
	keyOriginsPattern = "Unattended-Upgrade::Origins-Pattern::"
	keyAllowedOrigins = "Unattended-Upgrade::Allowed-Origins::"
)

// keptAptKey says whether a key of apt's configuration is one the
// collector reads.
func keptAptKey(k string) bool {
	return strings.HasPrefix(k, "APT::Periodic::") || k == keyOriginsPattern || k == keyAllowedOrigins
}

// maxAptList bounds a kept origin list (aptconfig.MaxList).
const maxAptList = aptconfig.MaxList

// aptList returns the items of a list kept by aptconfig.AddValue.
func aptList(conf map[string]string, k string) []string { return aptconfig.List(conf, k) }

// parseAptConf reads one apt.conf(5) file into dst, keeping the keys the
// collector reads.
func parseAptConf(b []byte, dst map[string]string) { aptconfig.ParseConf(b, dst, keptAptKey) }

// parseAptConfigDump reads `apt-config dump` output: one
// `Key::Path "value";` per line, list items as `Key::Path:: "value";`.
// Only the keys the collector reads are kept.
func parseAptConfigDump(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		k, v, ok := aptconfig.SplitLine(line)
		if ok && keptAptKey(k) {
			aptconfig.AddValue(out, k, v)
		}
	}
	return out
}

// periodicOn reads an APT::Periodic interval: "0" or empty is off, a
// positive number of days or "always" is on. ok is false for garbage.
func periodicOn(v string) (on, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return false, true
	}
	if strings.EqualFold(v, "always") {
		return true, true
	}
	// Intervals may carry a unit suffix (e.g. "1d", "12h").
	num := strings.TrimRight(v, "smhd")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return false, false
	}
	return n > 0, true
}
