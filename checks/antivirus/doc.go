// Package antivirus is the `antivirus` control (Policy 550.04 C.7.a.iv):
// vendor anti-virus is present, scanning in real time or on a schedule,
// running in a mode that blocks threats, and its definitions are no older
// than the policy's max_definition_age (24 hours by default), measured to
// the time of evaluation.
//
// The collector runs on Windows, macOS and Linux and dispatches on the
// host's OS at run time, so every OS's logic runs anywhere from a replayed
// snapshot:
//
//   - Windows: Microsoft Defender from WMI MSFT_MpComputerStatus
//     (AMRunningMode, AntivirusEnabled, RealTimeProtectionEnabled,
//     AntivirusSignatureLastUpdated, IsTamperProtected); Defender in
//     passive mode still reports real-time protection on, so the running
//     mode decides. Third-party products come from Windows Security
//     Center (root\SecurityCenter2 AntiVirusProduct productState bits),
//     whose state is what the product last reported and may be stale: an
//     entry whose program is gone is treated as stale. When Defender's WMI
//     cannot be read, the registry's signature time and Defender's
//     Security Center entry stand in.
//   - macOS: XProtect's version and install time (bundle Info.plist,
//     /Library/Receipts/InstallHistory.plist, system_profiler as a
//     fallback), credited with the last successful software update check
//     when security data installs automatically; XProtect scans apps on
//     first launch and change, not every file on access, which the facts
//     say. Also Microsoft Defender for Endpoint (mdatp health, JSON or the
//     older "name : value" text), CrowdStrike Falcon, SentinelOne, Sophos
//     Endpoint (OnAccessRunning and the virus data's release day in
//     com.sophos.sav.plist, the last AutoUpdate in sophosautoupdate.plist)
//     and Homebrew's ClamAV.
//   - Linux: ClamAV's daily database build time from its 512-byte header,
//     clamonacc (on-access) and freshclam from systemd, scheduled clamscan
//     jobs from cron and systemd timers; the same agents as on macOS, with
//     Sophos Protection for Linux read from the status it reports to Sophos
//     Central (SAV_status.xml on-access, ALC_status.xml last good update).
//
// Products that report no time (Security Center entries, EDR agents
// without signature files) pass on their own up-to-date flag unless the
// policy sets accept_up_to_date_flag: false.
package antivirus
