package firewall

import (
	"strings"
)

// parsePFInfo reads "Status: Enabled for 0 days 01:02:03 ..." or
// "Status: Disabled" from `pfctl -s info`.
func parsePFInfo(b []byte) (enabled, ok bool) {
	for _, line := range strings.Split(string(b), "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(line), "Status:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return false, false
		}
		switch f[0] {
		case "Enabled":
			return true, true
		case "Disabled":
			return false, true
		}
		return false, false
	}
	return false, false
}

// pfBlockAllIn returns the first rule of `pfctl -s rules` that blocks all
// inbound traffic: "block" (drop or return), inbound or both directions,
// on every interface and address, e.g. "block drop in all" or "block
// return in log quick all". Rules restricted to an interface, a protocol,
// a port or an address are exceptions of the ruleset, not its default.
func pfBlockAllIn(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "block" {
			continue
		}
		if blanketBlock(f[1:]) {
			return line
		}
	}
	return ""
}

func blanketBlock(f []string) bool {
	dirOK, all := true, false
	for i := 0; i < len(f); i++ {
		switch t := f[i]; {
		case t == "drop", t == "return", t == "return-rst", t == "return-icmp", t == "log", t == "quick", t == "in":
		case strings.HasPrefix(t, "return-"), strings.HasPrefix(t, "log("), strings.HasPrefix(t, "("):
		case t == "out":
			dirOK = false
		case t == "all":
			all = true
		case t == "from" && i+3 < len(f) && f[i+1] == "any" && f[i+2] == "to" && f[i+3] == "any":
			all = true
			i += 3
		case t == "label" && i+1 < len(f):
			i++
		default:
			// on <if>, inet, proto, from <addr>, port, flags, keep
			// state: the rule applies to some packets only.
			if all && (t == "flags" || t == "keep" || t == "modulate" || t == "synproxy") {
				continue
			}
			return false
		}
	}
	return dirOK && all
}
