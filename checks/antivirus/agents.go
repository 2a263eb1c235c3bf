package antivirus

import (
	"context"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Known agents on macOS and Linux, by absolute path.
var (
	mdatpPaths = map[string][]string{
		"linux":  {"/usr/bin/mdatp", "/opt/microsoft/mdatp/sbin/wdavdaemonclient"},
		"darwin": {"/usr/local/bin/mdatp"},
	}
	falconctlPaths = map[string]string{
		"linux":  "/opt/CrowdStrike/falconctl",
		"darwin": "/Applications/Falcon.app/Contents/Resources/falconctl",
	}
	sentinelctlPaths = map[string][]string{
		"linux":  {"/opt/sentinelone/bin/sentinelctl"},
		"darwin": {"/usr/local/bin/sentinelctl", "/Library/Sentinel/sentinel-agent.bundle/Contents/MacOS/sentinelctl"},
	}
	sophosPaths = map[string][]string{
		"linux":  {"/opt/sophos-spl"},
		"darwin": {"/Library/Sophos Anti-Virus", "/Applications/Sophos/Sophos Endpoint.app"},
	}
)

const agentNoDefinitions = "the agent has no local signature files; detection is cloud-delivered, so only its own up-to-date state can be read"

// collectAgents looks for Microsoft Defender for Endpoint, CrowdStrike
// Falcon, SentinelOne and Sophos.
func collectAgents(ctx context.Context, h host.Host, f *Facts) []Product {
	var ps []Product
	for _, c := range []func(context.Context, host.Host, *Facts) *Product{collectMDATP, collectFalcon, collectSentinelOne, collectSophos} {
		if p := c(ctx, h, f); p != nil {
			ps = append(ps, *p)
		}
	}
	return ps
}

func firstExisting(h host.Host, paths []string, f *Facts) string {
	for _, p := range paths {
		ok, err := exists(h, p)
		if err != nil {
			f.Notes = append(f.Notes, err.Error())
		}
		if ok {
			return p
		}
	}
	return ""
}

// collectMDATP reads `mdatp health --output json`.
func collectMDATP(ctx context.Context, h host.Host, f *Facts) *Product {
	bin := firstExisting(h, mdatpPaths[h.GOOS()], f)
	if bin == "" {
		return nil
	}
	p := &Product{Kind: KindMDATP, Name: "Microsoft Defender for Endpoint", FoundBy: bin}
	out, err := run(ctx, h, host.DefaultCommandTimeout, bin, "health", "--output", "json")
	if err == nil && out.ExitCode != 0 {
		err = exitError("mdatp health", out)
	}
	if err != nil {
		p.Unreadable = err.Error()
		return p
	}
	hl, err := parseMDATPHealth(out.Stdout)
	if err != nil {
		p.Unreadable = err.Error()
		return p
	}
	const src = "mdatp health"
	if hl.Healthy != nil {
		s := src + " healthy"
		if len(hl.HealthIssues) > 0 {
			s += ": " + strings.Join(hl.HealthIssues, ", ")
		}
		p.Healthy = flag(*hl.Healthy, s)
	}
	if hl.Licensed != nil && !*hl.Licensed {
		p.Running = flag(false, src+" licensed=false (the device is not onboarded)")
	}
	if hl.RealTime != nil {
		p.RealTime = flag(*hl.RealTime, src+" real_time_protection_enabled")
	}
	switch lvl := normKey(hl.EnforcementLevel); {
	case hl.Passive != nil && *hl.Passive:
		p.Mode = &Mode{Name: "passive mode", Source: src + " passive_mode_enabled=true"}
	case lvl == "passive":
		p.Mode = &Mode{Name: "passive mode", Source: src + " enforcement_level=passive"}
	case lvl == "ondemand":
		p.Mode = &Mode{Name: "on-demand mode", Source: src + " enforcement_level=on_demand"}
	case hl.Passive != nil || lvl == "realtime":
		p.Mode = &Mode{Name: "active mode", Protecting: true, Source: src}
	}
	if hl.DefinitionsUpdated != nil || hl.DefinitionsAgeMin != nil {
		d := &Definitions{Version: hl.DefinitionsVersion, Source: src + " definitions_updated"}
		if hl.DefinitionsUpdated != nil {
			d.Updated = hl.DefinitionsUpdated
		} else {
			d.AgeMinutes, d.Source = hl.DefinitionsAgeMin, src+" definitions_updated_minutes_ago"
		}
		p.Definitions = d
	}
	if u := hl.upToDate(); u != nil {
		p.UpToDate = flag(*u, src+" definitions_status="+hl.DefinitionsStatus)
	}
	if hl.TamperProtection != "" {
		p.TamperProtected = flag(normKey(hl.TamperProtection) == "block", src+" tamper_protection="+hl.TamperProtection)
	}
	return p
}

// collectFalcon reads CrowdStrike Falcon's state: on Linux whether the
// sensor is in reduced functionality mode (a kernel it does not support),
// on macOS whether it reports itself operational.
func collectFalcon(ctx context.Context, h host.Host, f *Facts) *Product {
	bin := falconctlPaths[h.GOOS()]
	if firstExisting(h, []string{bin}, f) == "" {
		return nil
	}
	p := &Product{Kind: KindCrowdStrike, Name: "CrowdStrike Falcon", FoundBy: bin, Caveat: agentNoDefinitions}
	args := []string{"-g", "--rfm-state"}
	if h.GOOS() == "darwin" {
		args = []string{"stats", "agent_info"}
	}
	out, err := run(ctx, h, host.DefaultCommandTimeout, bin, args...)
	if err == nil && out.ExitCode != 0 {
		err = exitError("falconctl", out)
	}
	if err != nil {
		p.Unreadable = err.Error()
		return p
	}
	kv := parseKeyValues(out.Stdout)
	src := "falconctl " + strings.Join(args, " ")
	var working bool
	switch {
	case kv["rfm-state"] != "":
		working = kv["rfm-state"] == "false"
		src += ": rfm-state=" + kv["rfm-state"]
	case kv["sensor operational"] != "":
		working = strings.EqualFold(kv["sensor operational"], "true")
		src += ": Sensor operational: " + kv["sensor operational"]
	default:
		p.Unreadable = "falconctl printed no sensor state: " + firstLine(out.Stdout)
		return p
	}
	p.Running = flag(working, src)
	p.RealTime = flag(working, src)
	p.UpToDate = flag(working, src)
	if h.GOOS() == "linux" {
		if st, ok := unitState(ctx, h, "falcon-sensor.service"); ok && st != "active" {
			p.Running = flag(false, "systemctl is-active falcon-sensor.service: "+st)
		}
	}
	return p
}

// collectSentinelOne reads sentinelctl's "key: value" status.
func collectSentinelOne(ctx context.Context, h host.Host, f *Facts) *Product {
	bin := firstExisting(h, sentinelctlPaths[h.GOOS()], f)
	if bin == "" {
		return nil
	}
	p := &Product{Kind: KindSentinelOne, Name: "SentinelOne", FoundBy: bin, Caveat: agentNoDefinitions}
	args := []string{"status"}
	if h.GOOS() == "linux" {
		args = []string{"control", "status"}
	}
	out, err := run(ctx, h, host.DefaultCommandTimeout, bin, args...)
	if err == nil && out.ExitCode != 0 {
		err = exitError("sentinelctl", out)
	}
	if err != nil {
		p.Unreadable = err.Error()
		return p
	}
	kv := parseKeyValues(out.Stdout)
	src := "sentinelctl " + strings.Join(args, " ")
	for _, k := range []string{"protection", "agent state", "agent operational state", "agent"} {
		v := strings.ToLower(kv[k])
		if v == "" {
			continue
		}
		on := v == "enabled" || v == "on" || v == "running"
		src = fmt.Sprintf("%s: %s: %s", src, k, kv[k])
		p.Running, p.RealTime, p.UpToDate = flag(on, src), flag(on, src), flag(on, src)
		return p
	}
	p.Unreadable = "sentinelctl printed no protection state: " + firstLine(out.Stdout)
	return p
}

// unitState asks systemd for one unit's state.
func unitState(ctx context.Context, h host.Host, unit string) (string, bool) {
	out, err := run(ctx, h, host.DefaultCommandTimeout, systemctlPath, "is-active", unit)
	if err != nil {
		return "", false
	}
	st := parseIsActive(out.Stdout, []string{unit})
	if st == nil {
		return "", false
	}
	return st[unit], true
}
