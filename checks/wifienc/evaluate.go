package wifienc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when every connected Wi-Fi network's security is allowed,
// or when an approved tunnel carries every route to the internet. No Wi-Fi
// in use is not applicable. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "Wi-Fi", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, t *Thresholds) checks.Result {
	ev := evidence(f)
	conn := f.connected()
	if len(f.Links) == 0 {
		return checks.Result{Status: checks.StatusNotApplicable, Summary: "no Wi-Fi interface on this device", Evidence: ev}
	}
	if len(conn) == 0 {
		return checks.Result{Status: checks.StatusNotApplicable, Summary: "no Wi-Fi in use (" + ifaceList(f.Links) + " not connected)", Evidence: ev}
	}
	var bad, unread []Link
	for _, l := range conn {
		switch {
		case l.Security == "":
			unread = append(unread, l)
		case !slices.Contains(t.Allowed, l.Security):
			bad = append(bad, l)
		}
	}
	if len(bad) == 0 && len(unread) == 0 {
		return checks.Result{Status: checks.StatusPass, Summary: "connected to " + describeLinks(conn), Evidence: ev}
	}
	vpn, why := approvedVPN(f, t, ev)
	if vpn != nil {
		what := describeLinks(append(bad, unread...))
		if len(bad) == 0 {
			what = "Wi-Fi of unreadable security on " + ifaceList(unread)
		}
		return checks.Result{Status: checks.StatusPass, Summary: fmt.Sprintf("%s, but all internet traffic goes through the approved VPN %s", what, describeTunnel(vpn)), Evidence: ev}
	}
	if len(bad) == 0 {
		reasons := make([]string, 0, len(unread))
		for _, l := range unread {
			reasons = append(reasons, l.Interface+": "+l.UnknownReason)
		}
		return checks.Unknown("the security of the connected Wi-Fi could not be read (" + strings.Join(reasons, "; ") + ")")
	}
	return checks.Result{
		Status:      checks.StatusFail,
		Summary:     fmt.Sprintf("connected to %s and %s", describeLinks(bad), why),
		Evidence:    ev,
		Remediation: remediation(in.OS),
	}
}

// approvedVPN returns the approved tunnel that carries every internet
// path, or nil and why not. It records the decision in ev.
func approvedVPN(f *Facts, t *Thresholds, ev map[string]any) (*Tunnel, string) {
	if len(f.Paths) == 0 {
		if f.RouteError != "" {
			return nil, "no approved VPN could be confirmed (" + f.RouteError + ")"
		}
		return nil, "no VPN carries the traffic (no route to the internet)"
	}
	var found *Tunnel
	var entries []string
	for _, p := range f.Paths {
		if p.Tunnel == nil {
			return nil, fmt.Sprintf("no VPN carries the traffic (%s goes out through %s)", p.Family, ifName(p.Interface))
		}
		entry, ok := t.approves(p.Tunnel)
		if !ok {
			return nil, fmt.Sprintf("the tunnel %s carrying %s is not an approved VPN", describeTunnel(p.Tunnel), p.Family)
		}
		if !slices.Contains(entries, entry) {
			entries = append(entries, entry)
		}
		if found == nil {
			found = p.Tunnel
		}
	}
	ev["vpn_approved_by"] = strings.Join(entries, ", ")
	return found, ""
}

func evidence(f *Facts) map[string]any {
	ev := map[string]any{"links_source": f.LinksSource}
	links := make([]string, 0, len(f.Links))
	for _, l := range f.Links {
		links = append(links, linkEvidence(l))
	}
	ev["wifi"] = links
	paths := make([]string, 0, len(f.Paths))
	for _, p := range f.Paths {
		s := fmt.Sprintf("%s via %s (%s)", p.Family, p.Interface, p.Source)
		if p.Tunnel != nil {
			s += "; tunnel " + describeTunnel(p.Tunnel) + " recognised by " + p.Tunnel.Source
		}
		paths = append(paths, s)
	}
	ev["internet_routes"] = paths
	if f.RouteError != "" {
		ev["route_error"] = f.RouteError
	}
	return ev
}

func linkEvidence(l Link) string {
	if !l.Connected {
		return l.Interface + ": not connected (" + l.Source + ")"
	}
	if l.Security == "" {
		return l.Interface + ": connected, security unknown: " + l.UnknownReason
	}
	s := l.Interface + ": " + securityName(l)
	if l.Detail != "" {
		s += " [" + l.Detail + "]"
	}
	return s + " (" + l.Source + ")"
}

func securityName(l Link) string {
	switch l.Security {
	case SecOpen:
		return "open (no encryption)"
	case SecWEP:
		return "WEP"
	case SecOWE:
		return "OWE (encrypted, unauthenticated)"
	}
	name := strings.ToUpper(l.Security)
	if l.Enterprise {
		return name + "-Enterprise"
	}
	return name + "-Personal"
}

func describeLinks(ls []Link) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.Security == "" {
			parts = append(parts, "Wi-Fi of unreadable security on "+ifName(l.Interface))
			continue
		}
		parts = append(parts, securityName(l)+" Wi-Fi on "+ifName(l.Interface))
	}
	return strings.Join(parts, " and ")
}

func ifaceList(ls []Link) string {
	names := make([]string, 0, len(ls))
	for _, l := range ls {
		names = append(names, ifName(l.Interface))
	}
	return strings.Join(names, ", ")
}

// ifName quotes an interface name that is not a plain identifier: Windows
// calls its adapter "Wi-Fi" or "Wi-Fi 2", which read as prose otherwise
// ("WPA2 on Wi-Fi Wi-Fi").
func ifName(name string) string {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return `"` + name + `"`
		}
	}
	return name
}

func describeTunnel(t *Tunnel) string {
	s := t.Interface + " (" + t.Kind
	if t.Name != "" {
		s += ", " + t.Name
	}
	return s + ")"
}

func remediation(goos string) string {
	switch goos {
	case "windows":
		return "Connect to a WPA2 or WPA3 network in Settings > Network & internet > Wi-Fi (forget the open one), or connect the organisation's VPN before opening IBHIS."
	case "darwin":
		return "Choose a WPA2 or WPA3 network in System Settings > Wi-Fi (forget the open one), or connect the organisation's VPN before opening IBHIS."
	}
	return "Connect to a WPA2 or WPA3 network (e.g. `nmcli device wifi connect NAME --ask`) and disconnect the open one, or bring up the organisation's VPN before opening IBHIS."
}
