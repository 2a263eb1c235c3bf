package firewall

import "fmt"

// Verdicts of a chain walk.
const (
	verdictAccept = "accept"
	verdictDrop   = "drop"
	verdictNone   = "" // fell off the end of the chain, or returned
)

// rule is one rule reduced to what matters for unsolicited inbound
// traffic: whether it applies to every packet, and its verdict.
type rule struct {
	// conditional rules match only some packets (a port, an interface,
	// conntrack state...); they are the allowed exceptions and do not
	// decide the chain's outcome.
	conditional bool
	// verdict is accept, drop (drop or reject), return, jump, goto, or ""
	// for a statement that does not end evaluation (log, counter).
	verdict string
	target  string
}

// chain is a chain of one table; policy is set for base chains only.
type chain struct {
	family, table, name string
	hook, policy        string
	rules               []rule
}

// ruleset is the chains of all tables, keyed by family/table/name.
type ruleset struct {
	chains map[string]*chain
	order  []string
}

func newRuleset() *ruleset { return &ruleset{chains: map[string]*chain{}} }

func chainKey(family, table, name string) string { return family + "/" + table + "/" + name }

func (rs *ruleset) chain(family, table, name string) *chain {
	k := chainKey(family, table, name)
	c, ok := rs.chains[k]
	if !ok {
		c = &chain{family: family, table: table, name: name}
		rs.chains[k] = c
		rs.order = append(rs.order, k)
	}
	return c
}

// maxDepth bounds jumps; the kernel itself refuses loops, this only guards
// against a malformed input.
const maxDepth = 32

// walkResult is a chain's outcome, kept so that each chain is walked once
// per base chain: chains that jump twice to the next, each to a depth of
// 32, would otherwise take 2^32 walks.
type walkResult struct{ verdict, by string }

// walk returns what happens to a new inbound packet that matches none of
// the conditional rules, and which rule decided it. done holds the chains
// already walked; a chain still being walked (a loop) decides nothing.
func (rs *ruleset) walk(c *chain, depth int, done map[*chain]*walkResult) (verdict, by string) {
	if depth > maxDepth {
		return verdictNone, ""
	}
	if r, seen := done[c]; seen {
		if r == nil {
			return verdictNone, ""
		}
		return r.verdict, r.by
	}
	done[c] = nil
	verdict, by = rs.walkRules(c, depth, done)
	done[c] = &walkResult{verdict, by}
	return verdict, by
}

func (rs *ruleset) walkRules(c *chain, depth int, done map[*chain]*walkResult) (verdict, by string) {
	// After a conditional return (ufw-not-local returns for local
	// addresses) a final drop applies to some packets only, so the walk
	// errs towards "not filtered": such a drop does not decide, an accept
	// still does.
	partial := false
	for _, r := range c.rules {
		if r.conditional {
			partial = partial || r.verdict == "return"
			continue
		}
		switch r.verdict {
		case verdictDrop:
			if partial {
				return verdictNone, ""
			}
			return r.verdict, fmt.Sprintf("rule in %s: %s", c.name, r.verdict)
		case verdictAccept:
			return r.verdict, fmt.Sprintf("rule in %s: %s", c.name, r.verdict)
		case "return":
			return verdictNone, ""
		case "jump", "goto":
			t, ok := rs.chains[chainKey(c.family, c.table, r.target)]
			if !ok {
				continue
			}
			v, by := rs.walk(t, depth+1, done)
			if v != verdictNone || r.verdict == "goto" {
				return v, by
			}
		}
	}
	return verdictNone, ""
}

// inputChains analyses every base filter chain on the input hook.
func (rs *ruleset) inputChains() []Chain {
	var out []Chain
	for _, k := range rs.order {
		c := rs.chains[k]
		if c.hook != "input" {
			continue
		}
		policy := c.policy
		if policy == "" {
			policy = verdictAccept
		}
		v, by := rs.walk(c, 0, map[*chain]*walkResult{})
		if v == verdictNone {
			v, by = policy, "policy "+policy
		}
		out = append(out, Chain{Family: c.family, Table: c.table, Name: c.name, Policy: policy, Verdict: v, DecidedBy: by})
	}
	return out
}

// filtered reports, per address family, whether any input chain drops
// unmatched traffic. A packet must pass every base chain on the hook, so
// one dropping chain is enough.
func filtered(chains []Chain) (v4, v6 bool) {
	for _, c := range chains {
		if c.Verdict != verdictDrop {
			continue
		}
		switch c.Family {
		case "ip":
			v4 = true
		case "ip6":
			v6 = true
		case "inet":
			v4, v6 = true, true
		}
	}
	return v4, v6
}
