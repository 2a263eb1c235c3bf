package diskenc

import (
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when every volume is encrypted or never reaches a disk,
// fails when any is plainly not encrypted, and is unknown otherwise.
func Evaluate(in checks.EvalInput) checks.Result { return evaluator.Evaluate(in) }

var evaluator = checks.Evaluator[Facts, checks.NoThresholds]{What: "disk encryption", Judge: evaluateFacts}

// evaluateFacts is Evaluate after checks.Evaluator decoded the facts.
func evaluateFacts(in checks.EvalInput, f *Facts, _ *checks.NoThresholds) checks.Result {
	if len(f.Volumes) == 0 {
		return checks.Unknown("no volumes were found to check")
	}
	vols := make([]string, 0, len(f.Volumes))
	var plain, suspended, encrypting, unknown []Volume
	for _, v := range f.Volumes {
		vols = append(vols, describe(v))
		switch v.State {
		case StateEncrypted, StateInMemory:
		case StateNotEncrypted:
			plain = append(plain, v)
		case StateProtectionOff:
			suspended = append(suspended, v)
		case StateEncrypting:
			encrypting = append(encrypting, v)
		default:
			unknown = append(unknown, v)
		}
	}
	ev := map[string]any{"source": f.Source, "volumes": vols}
	if len(f.Notes) > 0 {
		ev["notes"] = f.Notes
	}
	var problems []string
	if len(plain) > 0 {
		problems = append(problems, "not encrypted: "+names(plain))
	}
	if len(suspended) > 0 {
		problems = append(problems, "encrypted but protection is off: "+names(suspended))
	}
	if len(encrypting) > 0 {
		problems = append(problems, "encryption not finished: "+names(encrypting))
	}
	switch {
	case len(problems) > 0:
		return checks.Result{
			Status:      checks.StatusFail,
			Summary:     strings.Join(problems, "; "),
			Evidence:    ev,
			Remediation: remediationFor(in.OS, plain, suspended, encrypting),
		}
	case len(unknown) > 0:
		r := checks.Unknown(fmt.Sprintf("%s: %s", names(unknown), unknown[0].Reason))
		r.Evidence = ev
		return r
	}
	summary := "system, data and swap volumes are encrypted"
	switch in.OS {
	case "windows":
		summary = "BitLocker protects the OS volume and every fixed data volume"
	case "darwin":
		summary = "FileVault is on for the startup disk"
	}
	return checks.Result{Status: checks.StatusPass, Summary: summary, Evidence: ev}
}

func names(vs []Volume) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		where := v.MountPoint
		if v.Role == "swap" {
			where = v.Source
		}
		out = append(out, fmt.Sprintf("%s (%s)", v.Role, where))
	}
	return strings.Join(out, ", ")
}

func describe(v Volume) string {
	var chain []string
	for _, d := range v.Chain {
		s := d.Name + " " + d.Kind
		if d.Encryption != "" {
			s += " " + d.Encryption
		}
		chain = append(chain, s)
	}
	where := v.MountPoint
	if where == "" || v.Role == "swap" {
		where = v.Source
	}
	s := fmt.Sprintf("%s %s: %s", v.Role, where, v.State)
	if v.Encryption != "" {
		s += " (" + v.Encryption + ")"
	}
	if v.PercentEncrypted != nil {
		s += fmt.Sprintf(", %.1f%% encrypted", *v.PercentEncrypted)
	}
	if v.StateSource != "" {
		s += " [" + v.StateSource + "]"
	}
	if len(chain) > 0 {
		s += " via " + strings.Join(chain, " > ")
	}
	return s
}

// remediationFor picks the fix of the most serious problem.
func remediationFor(goos string, plain, suspended, encrypting []Volume) string {
	switch {
	case len(plain) > 0:
		return remediation(goos, plain)
	case len(suspended) > 0 && goos == "windows":
		return "Resume BitLocker: open Control Panel > BitLocker Drive Encryption and click Resume protection (or run `manage-bde -protectors -enable " + suspended[0].MountPoint + "` as administrator); device encryption waiting for activation needs you to sign in with a Microsoft or work account."
	case len(encrypting) > 0 && goos == "darwin":
		return "FileVault is still encrypting the disk: keep the Mac plugged in and awake until System Settings > Privacy & Security > FileVault shows it finished."
	case len(encrypting) > 0:
		return "BitLocker is still encrypting (or paused): keep the PC plugged in and on; if paused, run `manage-bde -resume " + encrypting[0].MountPoint + "` as administrator."
	}
	return remediation(goos, suspended)
}

func remediation(goos string, plain []Volume) string {
	switch goos {
	case "windows":
		return "Turn on BitLocker: open Settings > Privacy & security > Device encryption (or Control Panel > BitLocker Drive Encryption) and turn it on for the system drive."
	case "darwin":
		return "Turn on FileVault: open System Settings > Privacy & Security > FileVault and click Turn On."
	}
	onlySwap := true
	for _, v := range plain {
		onlySwap = onlySwap && v.Role == "swap"
	}
	if onlySwap {
		return "Encrypt swap: switch to zram swap (`sudo apt install systemd-zram-generator` or your distribution's zram package) or give the swap partition a random key in /etc/crypttab, then reboot."
	}
	return "Linux disks are encrypted at installation: ask IT to reinstall with \"Encrypt the new installation\" (LUKS) selected; back up your files first."
}
