package antivirus

import "strings"

// installRemediation says how to get a product on a machine that has none.
func installRemediation(goos string) string {
	switch goos {
	case "windows":
		return "Turn on Microsoft Defender Antivirus: open Windows Security > Virus & threat protection, turn Real-time protection on and click Check for updates (if your IT department removed another anti-virus product, ask them to reinstall it)."
	case "darwin":
		return "macOS's built-in XProtect was not found: install all updates in System Settings > General > Software Update, or install the anti-virus product your IT department provides."
	}
	return "Install ClamAV with on-access scanning: `sudo apt install clamav-freshclam clamav-daemon` (Debian, Ubuntu) or `sudo dnf install clamav-update clamd` (Fedora, RHEL), then `sudo systemctl enable --now clamav-freshclam clamav-clamonacc`; or install the product your IT department provides."
}

// remediation says how to fix the first failing product.
func remediation(goos string, p Product, j judgement) string {
	why := strings.Join(j.fails, " ")
	passive := strings.Contains(why, "does not block")
	old := strings.Contains(why, "definitions")
	switch p.Kind {
	case KindDefender:
		if passive {
			return "Microsoft Defender Antivirus is in passive mode, so another product must protect this PC: make sure that product is installed and running, or ask IT to switch Defender to active mode."
		}
		return "Open Windows Security > Virus & threat protection: turn Real-time protection on, and under Protection updates click Check for updates."
	case KindWSC:
		return "Open " + p.Name + " and turn its protection on and update its definitions; Windows Security > Virus & threat protection shows its state."
	case KindMDATP:
		if passive {
			return "Microsoft Defender for Endpoint runs in passive mode: ask IT to set enforcement to real-time (`sudo mdatp config passive-mode --value disabled` where allowed)."
		}
		return "Run `sudo mdatp definitions update` and `sudo mdatp config real-time-protection --value enabled`, then check again."
	case KindClamAV:
		if old {
			return "Update the ClamAV definitions: `sudo systemctl enable --now clamav-freshclam` (or run `sudo freshclam`), then check again."
		}
		return "Turn on ClamAV scanning: `sudo systemctl enable --now clamav-daemon clamav-clamonacc` for on-access scanning, or schedule a daily `clamscan` with cron or a systemd timer."
	case KindSophos:
		if old {
			return "Sophos reports that its updates are not current: check this device in Sophos Central (or ask IT) and make sure it can reach Sophos's update servers, then check again."
		}
		return "Sophos is installed but not scanning on access: ask IT to turn real-time scanning on for this device in Sophos Central."
	case KindXProtect:
		return "Open System Settings > General > Software Update > Automatic Updates and turn on \"Install Security Responses and system files\", then run `sudo softwareupdate --background-critical` to fetch the latest XProtect definitions."
	}
	if goos == "windows" {
		return "Ask IT to repair " + p.Name + ", or turn on Microsoft Defender Antivirus in Windows Security > Virus & threat protection."
	}
	return "Ask IT to repair the " + p.Name + " agent: it is installed but not protecting this device."
}
