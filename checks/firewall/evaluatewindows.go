package firewall

import (
	"fmt"
	"slices"
	"strings"

	"github.com/postern-dev/postern/checks"
)

const (
	remediationWindowsService  = "Start the Windows Defender Firewall service: as an administrator run `sc config mpssvc start= auto` then `net start mpssvc` (or ask IT to re-enable it in group policy)."
	remediationWindowsExcluded = "Turn the firewall back on for every network connection: as an administrator run `Set-NetFirewallProfile -All -DisabledInterfaceAliases NotConfigured` (or in Windows Defender Firewall with Advanced Security > Properties, tick every connection under Protected network connections of each profile)."
	staleSecurityCenter        = "Windows Security Center shows the state the product last reported; it may be stale"
)

// evaluateWindows passes when every active profile is on and blocks
// unsolicited inbound traffic, or when a third-party firewall that is
// still installed reports itself on to Security Center.
func evaluateWindows(w *WindowsFacts) checks.Result {
	required := w.ActiveProfiles
	if len(required) == 0 {
		required = []string{ProfileDomain, ProfilePrivate, ProfilePublic}
	}
	ev := map[string]any{
		"profiles":        profileSummaries(w.Profiles),
		"active_profiles": strings.Join(w.ActiveProfiles, ", "),
		"active_source":   w.ActiveSource,
		"service":         serviceSummary(w.Service),
	}
	if len(w.Notes) > 0 {
		ev["notes"] = w.Notes
	}
	third, thirdNames := workingThirdParty(w.ThirdParty)
	if len(w.ThirdParty) > 0 {
		ev["third_party"] = thirdPartySummaries(w.ThirdParty)
	}
	var off, allowing, unknown, excluded []string
	var reason string
	// A required profile the collector did not report at all is unknown:
	// an empty profile list must not pass as "every profile is on".
	for _, name := range required {
		if !slices.ContainsFunc(w.Profiles, func(p WindowsProfile) bool { return p.Name == name }) {
			unknown = append(unknown, name)
			reason = name + ": the profile was not reported"
		}
	}
	for _, p := range w.Profiles {
		if !slices.Contains(required, p.Name) {
			continue
		}
		switch {
		case p.Enabled == nil || p.InboundBlocked == nil:
			unknown = append(unknown, p.Name)
			reason = p.Name + ": " + p.Reason
		case !*p.Enabled:
			off = append(off, p.Name)
		case !*p.InboundBlocked:
			allowing = append(allowing, p.Name)
		case len(p.DisabledInterfaces) > 0:
			excluded = append(excluded, fmt.Sprintf("%s (%s)", p.Name, strings.Join(p.DisabledInterfaces, ", ")))
		}
	}
	serviceDown := w.Service.Running != nil && !*w.Service.Running ||
		w.Service.Running == nil && w.Service.StartType != nil && *w.Service.StartType == 4
	res := checks.Result{Evidence: ev}
	problem := ""
	switch {
	case serviceDown:
		problem = "the Windows Defender Firewall service (mpssvc) is not running"
	case len(off) > 0:
		problem = "Windows Defender Firewall is off for the " + strings.Join(off, ", ") + " profile"
	case len(allowing) > 0:
		problem = "Windows Defender Firewall allows unsolicited inbound connections on the " + strings.Join(allowing, ", ") + " profile"
	case len(excluded) > 0:
		problem = "Windows Defender Firewall is turned off for some interfaces of the " + strings.Join(excluded, "; ") + " profile"
	}
	switch {
	case problem != "" && third:
		res.Status = checks.StatusPass
		res.Summary = problem + ", but " + thirdNames + " reports itself on (" + staleSecurityCenter + ")"
	case problem != "":
		res.Status = checks.StatusFail
		res.Summary = problem
		res.Remediation = remediation("windows")
		if serviceDown {
			res.Remediation = remediationWindowsService
		} else if len(off) == 0 && len(allowing) == 0 && len(excluded) > 0 {
			res.Remediation = remediationWindowsExcluded
		}
	case len(unknown) > 0 && third:
		res.Status = checks.StatusPass
		res.Summary = thirdNames + " reports itself on (" + staleSecurityCenter + "); Windows Defender Firewall could not be read"
	case len(unknown) > 0:
		r := checks.Unknown("the Windows Firewall state of the " + strings.Join(unknown, ", ") + " profile could not be read: " + reason)
		r.Evidence = ev
		return r
	default:
		res.Status = checks.StatusPass
		res.Summary = "Windows Defender Firewall is on and blocks unsolicited inbound traffic for the " + strings.Join(required, ", ") + " profile"
	}
	return res
}

func workingThirdParty(ps []ThirdPartyFirewall) (bool, string) {
	var names []string
	for _, p := range ps {
		if p.On && (p.ExePresent == nil || *p.ExePresent) {
			names = append(names, p.Name)
		}
	}
	return len(names) > 0, strings.Join(names, ", ")
}

func profileSummaries(ps []WindowsProfile) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := fmt.Sprintf("%s: enabled=%s (%s), inbound blocked=%s (%s)", p.Name,
			showBool(p.Enabled, p.Reason), p.EnabledSource, showBool(p.InboundBlocked, p.Reason), p.InboundSource)
		if len(p.DisabledInterfaces) > 0 {
			s += ", off for interfaces " + strings.Join(p.DisabledInterfaces, ", ")
		}
		out = append(out, s)
	}
	return out
}

func showBool(b *bool, reason string) string {
	if b == nil {
		return "unknown: " + reason
	}
	return fmt.Sprint(*b)
}

func serviceSummary(s ServiceState) string {
	parts := []string{}
	if s.State != "" {
		parts = append(parts, "state "+s.State)
	}
	if s.StartType != nil {
		parts = append(parts, fmt.Sprintf("start type %d", *s.StartType))
	}
	if len(parts) == 0 {
		return "unread"
	}
	return strings.Join(parts, ", ") + " (" + s.Source + ")"
}

func thirdPartySummaries(ps []ThirdPartyFirewall) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := fmt.Sprintf("%s: productState 0x%X on=%t", p.Name, p.ProductState, p.On)
		if p.ExePresent != nil && !*p.ExePresent {
			s += ", executable missing (stale entry)"
		}
		if p.Timestamp != "" {
			s += ", reported " + p.Timestamp
		}
		out = append(out, s)
	}
	return out
}
