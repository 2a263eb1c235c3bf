package firewall

import (
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when unsolicited inbound traffic is dropped: on Linux
// for IPv4 and for IPv6 (unless IPv6 is off); on Windows by every active
// profile (or a third-party firewall); on macOS by the Application
// Firewall or pf. It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, checks.NoThresholds]{What: "firewall", Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts.
func evaluateFacts(in checks.EvalInput, f *Facts, _ *checks.NoThresholds) checks.Result {
	switch {
	case f.Windows != nil:
		return evaluateWindows(f.Windows)
	case f.Darwin != nil:
		return evaluateDarwin(f.Darwin)
	}
	ev := map[string]any{
		"source":        f.Source,
		"ipv4_filtered": f.IPv4Filtered,
		"ipv6_filtered": f.IPv6Filtered,
		"ipv6_disabled": f.IPv6Disabled,
		"input_chains":  chainSummaries(f.InputChains),
	}
	if f.UFW != nil {
		ev["ufw"] = frontEndSummary(f.UFW)
	}
	if f.Firewalld != nil {
		ev["firewalld"] = frontEndSummary(f.Firewalld)
	}
	v6ok := f.IPv6Filtered || f.IPv6Disabled
	res := checks.Result{Evidence: ev}
	switch {
	case f.IPv4Filtered && v6ok:
		res.Status = checks.StatusPass
		res.Summary = "the firewall drops unsolicited inbound traffic"
	case f.IPv4Filtered:
		res.Status = checks.StatusFail
		res.Summary = "the firewall filters inbound IPv4 but lets all inbound IPv6 in"
		res.Remediation = remediation(in.OS)
	case len(f.InputChains) == 0:
		res.Status = checks.StatusFail
		res.Summary = "no firewall rules filter inbound traffic"
		res.Remediation = remediation(in.OS)
	default:
		res.Status = checks.StatusFail
		res.Summary = "the firewall accepts all inbound traffic"
		res.Remediation = remediation(in.OS)
	}
	return res
}

func chainSummaries(cs []Chain) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s %s: %s (%s)", c.Family, c.Table, c.Name, c.Verdict, c.DecidedBy))
	}
	return out
}

func frontEndSummary(fe *FrontEnd) string {
	var parts []string
	if fe.Enabled != nil {
		parts = append(parts, fmt.Sprintf("enabled=%t", *fe.Enabled))
	}
	if fe.Active != nil {
		parts = append(parts, fmt.Sprintf("active=%t", *fe.Active))
	}
	return strings.Join(parts, " ") + " (" + fe.Source + ")"
}

func remediation(goos string) string {
	switch goos {
	case "windows":
		return "Open Windows Security > Firewall & network protection and turn Microsoft Defender Firewall on for the Domain, Private and Public networks."
	case "darwin":
		return "Open System Settings > Network > Firewall and turn the firewall on."
	}
	return "Turn the firewall on: run `sudo ufw enable` (Ubuntu, Debian) or `sudo systemctl enable --now firewalld` (Fedora, RHEL), then check again."
}
