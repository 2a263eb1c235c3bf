package firewall

import (
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseIPTablesSave reads the filter table of iptables-save or
// ip6tables-save output (family "ip" or "ip6") into the common model.
func parseIPTablesSave(b []byte, family string) (*ruleset, error) {
	rs := newRuleset()
	table := ""
	n := 0
	for line := range textlines.Each(b) {
		n++
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case line == "COMMIT":
			table = ""
		case table != "filter":
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				return nil, fmt.Errorf("parse iptables-save line %d: bad chain declaration", n)
			}
			c := rs.chain(family, table, f[0])
			if f[0] == "INPUT" {
				c.hook, c.policy = "input", strings.ToLower(f[1])
				if c.policy != verdictAccept && c.policy != verdictDrop {
					return nil, fmt.Errorf("parse iptables-save line %d: INPUT policy %q is neither ACCEPT nor DROP", n, f[1])
				}
			}
		case strings.HasPrefix(line, "-A "):
			args, err := splitArgs(line)
			if err != nil {
				return nil, fmt.Errorf("parse iptables-save line %d: %w", n, err)
			}
			c := rs.chain(family, table, args[1])
			c.rules = append(c.rules, iptablesRule(args[2:]))
		}
	}
	return rs, nil
}

func iptablesRule(args []string) rule {
	var r rule
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "-j" || a == "-g") && i+1 < len(args):
			i++
			r.verdict, r.target = iptablesTarget(a, args[i])
			// Target options (--reject-with, --log-prefix) follow.
			for i+1 < len(args) && strings.HasPrefix(args[i+1], "--") {
				i += 2
			}
		case a == "-m" && i+1 < len(args) && args[i+1] == "comment":
			i += 3 // -m comment --comment TEXT
		case a == "-c" && i+2 < len(args):
			i += 2 // packet and byte counters
		default:
			r.conditional = true
		}
	}
	return r
}

func iptablesTarget(flag, t string) (verdict, target string) {
	switch t {
	case "ACCEPT":
		return verdictAccept, ""
	case "DROP", "REJECT":
		return verdictDrop, ""
	case "RETURN":
		return "return", ""
	case "LOG", "NFLOG", "ULOG", "AUDIT":
		return "", ""
	}
	if strings.ToUpper(t) == t {
		// An extension target we do not model (MARK, CONNMARK...): it
		// neither accepts nor drops.
		return "", ""
	}
	if flag == "-g" {
		return "goto", t
	}
	return "jump", t
}

// splitArgs splits an iptables-save rule line, which quotes arguments
// containing spaces with double quotes and escapes quotes with \.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if have {
		args = append(args, cur.String())
	}
	if len(args) < 2 {
		return nil, fmt.Errorf("rule without a chain")
	}
	return args, nil
}

// merge adds the chains of other (a different family) to rs.
func (rs *ruleset) merge(other *ruleset) {
	for _, k := range other.order {
		if _, dup := rs.chains[k]; !dup {
			rs.chains[k] = other.chains[k]
			rs.order = append(rs.order, k)
		}
	}
}
