package firewall

import (
	"regexp"
	"strconv"
	"strings"
)

var alfStateRE = regexp.MustCompile(`\(State = ([0-9])\)`)

// socketFilter is what `socketfilterfw --getglobalstate --getblockall
// --getstealthmode` printed, one line per option in any order. The tool is
// not localized; its wording changed across releases ("Block all
// ENABLED!", "Firewall has block all state set to enabled.", "Stealth mode
// enabled", "Firewall stealth mode is on"), so lines are recognised by
// keyword.
type socketFilter struct {
	state             *int
	blockAll, stealth *bool
}

func parseSocketFilterFW(b []byte) socketFilter {
	var sf socketFilter
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r", ""), "\n") {
		low := strings.ToLower(line)
		if m := alfStateRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			sf.state = &n
			continue
		}
		switch {
		case strings.Contains(low, "block all"):
			sf.blockAll = onOff(low)
			if sf.blockAll == nil && strings.Contains(low, "non-essential") {
				sf.blockAll = boolp(true)
			}
		case strings.Contains(low, "stealth"):
			sf.stealth = onOff(low)
		}
	}
	return sf
}

// onOff reads enabled/disabled or on/off at the end of a setting line.
func onOff(low string) *bool {
	switch {
	case strings.Contains(low, "disabled"), strings.HasSuffix(strings.TrimRight(low, ". !"), " off"):
		return boolp(false)
	case strings.Contains(low, "enabled"), strings.HasSuffix(strings.TrimRight(low, ". !"), " on"):
		return boolp(true)
	}
	return nil
}
