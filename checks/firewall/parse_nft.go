package firewall

import (
	"encoding/json"
	"fmt"
)

// nftDoc is the output of `nft -j list ruleset` (libnftables-json(5)).
type nftDoc struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftChain struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Hook   string `json:"hook"`
	Policy string `json:"policy"`
}

type nftRule struct {
	Family string                       `json:"family"`
	Table  string                       `json:"table"`
	Chain  string                       `json:"chain"`
	Expr   []map[string]json.RawMessage `json:"expr"`
}

// nftPassive are statements that neither filter nor end evaluation.
var nftPassive = map[string]bool{"counter": true, "log": true}

// parseNFT reads nft's JSON ruleset into the common model. Only filter
// chains on the input hook are base chains that count.
func parseNFT(b []byte) (*ruleset, error) {
	var doc nftDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse nft json: %w", err)
	}
	if doc.Nftables == nil {
		return nil, fmt.Errorf("parse nft json: no nftables array")
	}
	rs := newRuleset()
	for _, obj := range doc.Nftables {
		if raw, ok := obj["chain"]; ok {
			var c nftChain
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("parse nft chain: %w", err)
			}
			ch := rs.chain(c.Family, c.Table, c.Name)
			if c.Type == "filter" && c.Hook == "input" && (c.Family == "ip" || c.Family == "ip6" || c.Family == "inet") {
				ch.hook, ch.policy = c.Hook, c.Policy
				if c.Policy != "" && c.Policy != verdictAccept && c.Policy != verdictDrop {
					return nil, fmt.Errorf("parse nft chain %s: policy %q is neither accept nor drop", c.Name, c.Policy)
				}
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r nftRule
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("parse nft rule: %w", err)
			}
			ch := rs.chain(r.Family, r.Table, r.Chain)
			ch.rules = append(ch.rules, nftToRule(r.Expr))
		}
	}
	return rs, nil
}

func nftToRule(exprs []map[string]json.RawMessage) rule {
	var out rule
	for _, stmt := range exprs {
		for k, v := range stmt {
			switch k {
			case "accept":
				out.verdict = verdictAccept
			case "drop", "reject":
				out.verdict = verdictDrop
			case "return":
				out.verdict = "return"
			case "jump", "goto":
				var t struct {
					Target string `json:"target"`
				}
				_ = json.Unmarshal(v, &t)
				out.verdict, out.target = k, t.Target
			default:
				if !nftPassive[k] {
					// A match, a limit, an xt match or anything we do not
					// know applies to some packets only.
					out.conditional = true
				}
			}
		}
	}
	return out
}
