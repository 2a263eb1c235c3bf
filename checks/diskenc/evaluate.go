package diskenc

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks"
)

// Evaluate passes when every volume is encrypted or never reaches a disk,
// fails when any is plainly not encrypted, and is unknown otherwise.
func Evaluate(in checks.EvalInput) checks.Result {
	var f Facts
	if err := json.Unmarshal(in.Facts, &f); err != nil {
		return checks.Unknown(fmt.Sprintf("the disk encryption facts do not decode: %v", err))
	}
	if len(f.Volumes) == 0 {
		return checks.Unknown("no volumes were found to check")
	}
	vols := make([]string, 0, len(f.Volumes))
	var plain, unknown []Volume
	for _, v := range f.Volumes {
		vols = append(vols, describe(v))
		switch v.State {
		case StateEncrypted, StateInMemory:
		case StateNotEncrypted:
			plain = append(plain, v)
		default:
			unknown = append(unknown, v)
		}
	}
	ev := map[string]any{"source": f.Source, "volumes": vols}
	switch {
	case len(plain) > 0:
		return checks.Result{
			Status:      checks.StatusFail,
			Summary:     "not encrypted: " + names(plain),
			Evidence:    ev,
			Remediation: remediation(in.OS, plain),
		}
	case len(unknown) > 0:
		r := checks.Unknown(fmt.Sprintf("%s: %s", names(unknown), unknown[0].Reason))
		r.Evidence = ev
		return r
	}
	return checks.Result{Status: checks.StatusPass, Summary: "system, data and swap volumes are encrypted", Evidence: ev}
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
	if len(chain) > 0 {
		s += " via " + strings.Join(chain, " > ")
	}
	return s
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
