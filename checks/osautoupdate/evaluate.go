package osautoupdate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when the strongest mechanism that is not weak evidence
// reaches the required level at in.Now (a pause in force counts as off).
// It is pure.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, Thresholds]{What: "automatic update", Defaults: DefaultThresholds, Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts and took the
// thresholds.
func evaluateFacts(in checks.EvalInput, f *Facts, th *Thresholds) checks.Result {
	ev := map[string]any{"required_level": th.Require}
	var best *Mechanism
	var unknown []Mechanism
	for i := range f.Mechanisms {
		m := &f.Mechanisms[i]
		if m.PausedUntil != nil && in.Now.Before(*m.PausedUntil) {
			m.Level, m.Reason = LevelOff, fmt.Sprintf("updates are paused until %s", m.PausedUntil.Format("2006-01-02 15:04 MST"))
		}
		ev[evKey(m.Name)] = describe(m)
		if m.Level == LevelUnknown {
			unknown = append(unknown, *m)
			continue
		}
		if m.Weak {
			continue
		}
		if best == nil || levelRank[m.Level] > levelRank[best.Level] {
			best = m
		}
	}
	if len(f.Checked) > 0 {
		ev["checked"] = f.Checked
	}
	if best != nil && levelRank[best.Level] >= levelRank[th.Require] {
		return checks.Result{Status: checks.StatusPass, Summary: fmt.Sprintf("%s: %s", best.Name, best.Reason), Evidence: ev}
	}
	if len(unknown) > 0 {
		r := checks.Unknown(fmt.Sprintf("%s: %s", unknown[0].Name, unknown[0].Reason))
		r.Evidence = ev
		return r
	}
	res := checks.Result{Status: checks.StatusFail, Evidence: ev, Remediation: remediation(in.OS, f.Mechanisms, f.Checked)}
	switch {
	case best != nil:
		res.Summary = fmt.Sprintf("%s: %s", best.Name, best.Reason)
	case len(f.Mechanisms) > 0:
		res.Summary = fmt.Sprintf("no automatic update mechanism is on; only %s", f.Mechanisms[0].Reason)
	default:
		res.Summary = "no automatic update mechanism was found (checked " + strings.Join(f.Checked, ", ") + ")"
	}
	return res
}

func evKey(name string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(name))
}

func describe(m *Mechanism) string {
	s := m.Level + ": " + m.Reason
	if len(m.Settings) > 0 {
		keys := make([]string, 0, len(m.Settings))
		for k := range m.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+m.Settings[k])
		}
		s += " [" + strings.Join(parts, "; ") + "]"
	}
	if m.Weak {
		s += " (weak evidence)"
	}
	return s
}

func remediation(goos string, ms []Mechanism, checked []string) string {
	switch goos {
	case "windows":
		return "Open Settings > Windows Update, resume updates if paused, and make sure the Windows Update service is not disabled; if a company policy turned automatic updates off, ask IT to allow them."
	case "darwin":
		return "Open System Settings > General > Software Update > Automatic Updates (the (i) button) and turn on checking, downloading, and installing Security Responses and system files."
	}
	for _, m := range ms {
		switch m.Name {
		case "dnf-automatic":
			return "Install updates automatically: `sudo systemctl enable --now dnf-automatic-install.timer` (it installs whatever apply_updates says), or set `apply_updates = yes` in /etc/dnf/dnf5-plugins/automatic.conf (dnf5, Fedora 41 and later) or /etc/dnf/automatic.conf (dnf4) for dnf-automatic.timer."
		case "transactional-update", "os-update":
			return "Turn on automatic updates: `sudo systemctl enable --now " + m.Name + ".timer`."
		}
	}
	for _, c := range checked {
		if strings.HasPrefix(c, "YaST automatic online update") {
			return "Turn on automatic online update: `sudo zypper install yast2-online-update-configuration`, then in YaST > Software > Online Update Configuration tick Automatic Online Update (daily) including the Security category; make sure cron is installed."
		}
	}
	return "Turn on unattended upgrades: `sudo apt install unattended-upgrades && sudo dpkg-reconfigure -plow unattended-upgrades` (Fedora/RHEL: `sudo dnf install dnf-automatic && sudo systemctl enable --now dnf-automatic-install.timer`)."
}
