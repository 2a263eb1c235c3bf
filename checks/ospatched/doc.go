// Package ospatched is the `os_patched` control (Policy 550.04
// C.7.a.iii): no security update is pending past its grace period, and
// the build is at or above its patch baseline.
//
// Sources, per OS (all read through checks/host, chosen by the host's
// GOOS so snapshots of any OS are checked anywhere):
//
//   - Windows: CurrentBuildNumber.UBR against the baseline (osdata);
//     the Windows Update Agent's pending updates from its last scan
//     (PowerShell, COM Microsoft.Update.Session with Online = false;
//     security = Security/Critical category IDs or an MSRC severity; each
//     update's LastDeploymentChangeTime as its release date) with the
//     last successful search and install; the newest
//     Win32_QuickFixEngineering InstalledOn as the last patch.
//   - macOS: ProductVersion against the baseline; `softwareupdate
//     --list`; InstallHistory.plist for the last install and
//     com.apple.SoftwareUpdate.plist LastSuccessfulDate for the last check.
//   - Linux: `apt-get -s dist-upgrade` (security = from a -security
//     suite), else update-notifier's apt-check counts; the apt lists'
//     refresh time (update-success-stamp, else the newest Release file);
//     apt's history.log, else dpkg's log (where dpkg.cfg.d and dpkg.cfg
//     put it, as dpkg reads them), for the last upgrade. On SUSE
//     (or wherever zypper is the only rpm front end) `zypper --xmlout
//     list-patches --category security`: needed security patches from
//     update-list and blocked-update-list (held back behind a package
//     manager patch), issue-date as the release date, zypper's error
//     messages making an empty list inconclusive; zypp's history (where
//     history.logfile in /etc/zypp/zypp.conf, else /usr/etc/zypp/zypp.conf,
//     puts it) newest needed-to-applied patch as the last patch. On dnf systems
//     `dnf updateinfo list --security` (dnf 5 gives issue dates) and the
//     rpm database's last change.
//
// Slow searches run under their own timeouts and are cached per host with
// a time-to-live (apt 1 h, dnf, zypper, Windows Update and softwareupdate 6 h;
// errors 5 min) so that a check cycle stays fast; see Cache.
//
// The policy's `max_pending_days` (default 14) is the grace period,
// `max_days_since_last_patch` (45) bounds how old a met baseline or last
// patch may be when pending updates cannot be listed, and `baselines`
// extends or replaces the embedded baselines (see osdata).
package ospatched
