package wifienc

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// xfrmPolicy is one policy of `ip xfrm policy list`. iproute2 has no JSON
// output for xfrm (`-j` is ignored), so the text layout is parsed: a
// selector line at column 0, then tab-indented lines for the direction
// and each template.
type xfrmPolicy struct {
	src, dst netip.Prefix
	// upper is true when the selector also names a protocol or port
	// ("proto tcp dport 443"): the policy covers only part of the traffic.
	upper    bool
	dir      string // out, in, fwd; "socket" for per-socket policies
	priority uint64
	block    bool   // action block
	ptype    string // main or sub; empty means main
	tmpls    []xfrmTmpl
}

// xfrmTmpl is one template: the transform the kernel applies.
type xfrmTmpl struct {
	peer     string // tmpl dst: the far end of the tunnel
	proto    string // esp, ah, comp
	mode     string // tunnel, transport, beet
	optional bool   // level use: sent in the clear when no SA exists
}

func parseXfrmPolicies(out []byte) ([]xfrmPolicy, error) {
	var pols []xfrmPolicy
	var cur *xfrmPolicy
	for line := range textlines.Each(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") {
			if f[0] != "src" {
				return nil, fmt.Errorf("parse ip xfrm policy: unexpected line %q", clip(line))
			}
			p, err := parseXfrmSelector(f)
			if err != nil {
				return nil, err
			}
			pols = append(pols, p)
			cur = &pols[len(pols)-1]
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("parse ip xfrm policy: %q before any selector", clip(line))
		}
		switch f[0] {
		case "dir", "socket":
			if len(f) < 2 {
				return nil, fmt.Errorf("parse ip xfrm policy: %q names no direction", clip(line))
			}
			cur.dir = f[1]
			if f[0] == "socket" {
				cur.dir = "socket"
			}
			for i := 2; i+1 < len(f); i++ {
				switch f[i] {
				case "priority":
					cur.priority, _ = strconv.ParseUint(f[i+1], 10, 32)
				case "action":
					cur.block = f[i+1] == "block"
				case "ptype":
					cur.ptype = f[i+1]
				}
			}
		case "tmpl":
			t := xfrmTmpl{}
			for i := 1; i+1 < len(f); i++ {
				if f[i] == "dst" {
					t.peer = f[i+1]
				}
			}
			cur.tmpls = append(cur.tmpls, t)
		case "proto", "level":
			if len(cur.tmpls) == 0 {
				continue
			}
			t := &cur.tmpls[len(cur.tmpls)-1]
			for i := 0; i+1 < len(f); i++ {
				switch f[i] {
				case "proto":
					t.proto = f[i+1]
				case "mode":
					t.mode = f[i+1]
				case "level":
					t.optional = f[i+1] == "use"
				}
			}
		}
	}
	return pols, nil
}

func parseXfrmSelector(f []string) (xfrmPolicy, error) {
	var p xfrmPolicy
	var err error
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "src", "dst":
			if i+1 >= len(f) {
				return p, fmt.Errorf("parse ip xfrm policy: %s without an address", f[i])
			}
			var pre netip.Prefix
			if pre, err = netip.ParsePrefix(f[i+1]); err != nil {
				return p, fmt.Errorf("parse ip xfrm policy selector: %w", err)
			}
			if f[i] == "src" {
				p.src = pre
			} else {
				p.dst = pre
			}
			i++
		case "proto", "sport", "dport", "type", "code", "key":
			p.upper = true
		}
	}
	if !p.src.IsValid() || !p.dst.IsValid() {
		return p, fmt.Errorf("parse ip xfrm policy: selector %q lacks src or dst", clip(strings.Join(f, " ")))
	}
	return p, nil
}

// xfrmCover is the decision for one address family's internet traffic.
type xfrmCover struct {
	covered bool
	policy  *xfrmPolicy
	why     string // when not covered and a policy was relevant
}

// xfrmCovers finds the outbound policy the kernel would apply to a packet
// from src (invalid: unknown) to probe, and reports whether it sends all
// internet traffic through ESP: the winning policy (lowest priority value)
// must require ESP, be unrestricted by protocol or port, and select every
// destination (dst /0), so that the probe is not merely lucky.
func xfrmCovers(pols []xfrmPolicy, src, probe netip.Addr) xfrmCover {
	var best *xfrmPolicy
	tie := false
	for i := range pols {
		p := &pols[i]
		if p.dir != "out" || (p.ptype != "" && p.ptype != "main") || p.upper {
			continue
		}
		if !p.dst.Contains(probe) {
			continue
		}
		if src.IsValid() && !p.src.Contains(src) || !src.IsValid() && p.src.Bits() != 0 {
			continue
		}
		switch {
		case best == nil || p.priority < best.priority:
			best, tie = p, false
		case p.priority == best.priority:
			tie = true
		}
	}
	if best == nil {
		return xfrmCover{}
	}
	if tie {
		return xfrmCover{policy: best, why: "several outbound xfrm policies of equal priority match; which applies is not visible"}
	}
	esp := best.esp()
	switch {
	case best.block:
		return xfrmCover{policy: best, why: "the matching xfrm policy blocks the traffic"}
	case esp == nil:
		return xfrmCover{policy: best, why: "the matching xfrm policy applies no ESP (bypass)"}
	case esp.optional:
		return xfrmCover{policy: best, why: "the matching xfrm policy's ESP is optional (level use)"}
	case best.dst.Bits() != 0:
		return xfrmCover{policy: best, why: "the matching xfrm policy covers only " + best.dst.String()}
	}
	return xfrmCover{covered: true, policy: best}
}

func (p *xfrmPolicy) esp() *xfrmTmpl {
	for i := range p.tmpls {
		if p.tmpls[i].proto == "esp" {
			return &p.tmpls[i]
		}
	}
	return nil
}

func (p *xfrmPolicy) String() string {
	return fmt.Sprintf("dir %s src %s dst %s priority %d", p.dir, p.src, p.dst, p.priority)
}
