package firewall

import (
	"fmt"

	"github.com/postern-dev/postern/checks"
)

const remediationPF = "Or load a pf ruleset whose inbound default is `block in all` with `sudo pfctl -e -f /etc/pf.conf`."

// evaluateDarwin passes when the Application Firewall is on (or blocks
// all incoming connections), or pf is enabled with a rule blocking all
// inbound traffic.
func evaluateDarwin(d *DarwinFacts) checks.Result {
	ev := map[string]any{"state_source": d.StateSource}
	if d.State != nil {
		ev["application_firewall"] = alfName(*d.State)
	}
	if d.Managed != nil {
		ev["managed_enable_firewall"] = *d.Managed
	}
	if d.SocketFilterState != nil {
		ev["socketfilterfw_state"] = *d.SocketFilterState
	}
	if d.PlistState != nil {
		ev["alf_plist_globalstate"] = *d.PlistState
	}
	if d.BlockAll != nil {
		ev["block_all"] = *d.BlockAll
	}
	if d.Stealth != nil {
		ev["stealth_mode"] = *d.Stealth
	}
	pfFilters := d.PF != nil && d.PF.Enabled && d.PF.BlockRule != ""
	if d.PF != nil {
		ev["pf"] = pfSummary(d.PF)
	}
	if len(d.Notes) > 0 {
		ev["notes"] = d.Notes
	}
	res := checks.Result{Evidence: ev}
	switch {
	case d.State != nil && *d.State >= ALFOn:
		res.Status = checks.StatusPass
		res.Summary = fmt.Sprintf("the Application Firewall is %s (%s)", alfName(*d.State), d.StateSource)
	case pfFilters:
		res.Status = checks.StatusPass
		res.Summary = "pf is enabled and blocks inbound traffic by default (" + d.PF.BlockRule + ")"
	case d.State != nil:
		res.Status = checks.StatusFail
		res.Summary = fmt.Sprintf("the Application Firewall is off (%s) and pf does not block inbound traffic", d.StateSource)
		res.Remediation = remediation("darwin") + " " + remediationPF
	default:
		reason := "no source gave the Application Firewall's state"
		if len(d.Notes) > 0 {
			reason += ": " + d.Notes[0]
		}
		r := checks.Unknown(reason)
		r.Evidence = ev
		return r
	}
	return res
}

func alfName(st int) string {
	switch st {
	case ALFOff:
		return "off"
	case ALFOn:
		return "on"
	case ALFBlockAll:
		return "on, blocking all incoming connections"
	}
	return fmt.Sprintf("in unknown state %d", st)
}

func pfSummary(pf *PFState) string {
	switch {
	case pf.Reason != "" && !pf.Enabled:
		return "unread: " + pf.Reason
	case !pf.Enabled:
		return "disabled"
	case pf.BlockRule != "":
		return "enabled, " + pf.BlockRule
	case pf.Reason != "":
		return "enabled, rules unread: " + pf.Reason
	}
	return "enabled, no rule blocks all inbound traffic"
}
