// Package osautoupdate is the `os_auto_update` control (Policy 550.04
// C.7.a.iii): automatic updates are enabled.
//
// Each OS's mechanism is read and reduced to a level (off, notify,
// download, install); the policy's `require` (default download) is the
// least acceptable level.
//
//   - Windows: Group Policy NoAutoUpdate and AUOptions
//     (HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU), the MDM
//     Update CSP AllowAutoUpdate (PolicyManager), the wuauserv service's
//     Start value, and the pause settings under WindowsUpdate\UX\Settings.
//     The stricter policy wins; no policy means Windows' default
//     (install). A pause in force counts as off at evaluation time.
//   - macOS: AutomaticCheckEnabled, AutomaticDownload,
//     CriticalUpdateInstall, ConfigDataInstall and
//     AutomaticallyInstallMacOSUpdates (booleans, or numbers and strings
//     as CFPreferences reads them), from the managed profile first,
//     then /Library/Preferences/com.apple.SoftwareUpdate.plist, then
//     `softwareupdate --schedule` for the check; absent keys take macOS's
//     defaults and say so.
//   - Linux: APT::Periodic (apt-config dump, else apt.conf.d then
//     apt.conf read in apt's order, each where Dir::Etc::parts and
//     Dir::Etc::main put it), the unattended-upgrades program and
//     the apt-daily(-upgrade) timers or cron; dnf-automatic (the first
//     of dnf5's /etc/dnf/dnf5-plugins/automatic.conf and
//     /usr/share/dnf5/dnf5-plugins/automatic.conf, else dnf4's
//     /etc/dnf/automatic.conf, and its timers); rpm-ostree's
//     AutomaticUpdatePolicy; on SUSE, YaST's automatic online update
//     (/etc/sysconfig/automatic_online_update, its cron job and cron
//     itself, the patch categories), the transactional-update and
//     os-update timers; GNOME Software as weak evidence that never
//     passes alone.
//
// Collectors are portable and chosen by the host's GOOS, so snapshots of
// any OS are checked anywhere.
package osautoupdate
